#!/usr/bin/perl
# The driver scenario (scenario.txt) run by Perl DBI with DBD::MariaDB
# (Debian's libdbd-mariadb-perl, on libmariadb): one transcript line per
# step, "ID<TAB>value", on stdout.  test_drivers.py runs it once directly
# against hostM1 and once through manx and compares the two transcripts.
#
#   perl scenario.pl HOST PORT USER PASSWORD DB scenario.txt
#
# The format of scenario.txt and of the values is in README.md.  Text
# queries use DBI's client-side placeholders (COM_QUERY), `ps` and `blob`
# prepare on the server (mariadb_server_prepare), `stream` reads the rows
# buffered (mariadb_use_result returns no rows in DBD::MariaDB 1.22, Debian
# 12's: perl5-dbi/DBD-MariaDB issue 173, fixed in 1.23), `batch` is execute_array, `meta` the DBI catalog
# calls (table_info, column_info, primary_key_info).  DBD::MariaDB has no
# COM_CHANGE_USER, server-side cursors, bulk execute, CLIENT_IGNORE_SPACE or
# callable statements: those steps are skipped.
use strict;
use warnings;
use DBI qw(:sql_types);
use Digest::MD5 qw(md5_hex);

binmode STDOUT, ':encoding(UTF-8)';

@ARGV == 6 or die "usage: perl scenario.pl HOST PORT USER PASSWORD DB SCENARIO\n";
my ($HOST, $PORT, $USER, $PASS, $DB, $FILE) = @ARGV;

my %sessions;      # name => dbh
my %skipped;       # name => 1: opened with an option DBD::MariaDB cannot express
my $collected;     # inside `repeat`: {order => [ids], vals => {id => {value => 1}}}

sub emit {
    my ($id, $value) = @_;
    $value =~ s/\\/\\\\/g;
    $value =~ s/\n/\\n/g;
    $value =~ s/\t/\\t/g;
    if ($collected) {
        push @{$collected->{order}}, $id unless $collected->{vals}{$id};
        $collected->{vals}{$id}{$value} = 1;
    } else {
        print "$id\t$value\n";
    }
}

sub err {
    my ($h, $msg) = @_;
    my $s = "ERR " . ($h->err // 0);
    $s .= " " . $h->errstr if $msg;
    return $s;
}

sub val { defined $_[0] ? $_[0] : "NULL" }

sub rows {
    my ($sth, $header) = @_;
    my $s = $header ? "{" . join(",", @{$sth->{NAME}}) . "}" : "";
    my @out;
    while (my $r = $sth->fetchrow_arrayref) {
        push @out, join(",", map { val($_) } @$r);
    }
    return undef if $sth->err;
    return $s . "[" . join(";", @out) . "]";
}

# Every result of an executed statement, then the error that ended them.
# A server-side prepared statement has one (more_results is for texts).
sub results {
    my ($sth, $rv, $header, $msg, $single) = @_;
    my @parts;
    while (1) {
        if ($sth->{NUM_OF_FIELDS}) {
            my $r = rows($sth, $header);
            if (!defined $r) {
                push @parts, err($sth, $msg);
                last;
            }
            push @parts, $r;
        } else {
            push @parts, "OK " . ($rv eq "0E0" ? 0 : $rv);
        }
        last if $single || !$sth->more_results;
        $rv = $sth->rows;
    }
    push @parts, err($sth, $msg) if $sth->err && $parts[-1] !~ /^ERR/;
    return join(" / ", @parts);
}

sub connect_session {
    my ($s, $id, @opts) = @_;
    $sessions{$s}->disconnect if $sessions{$s};
    delete $sessions{$s};
    delete $skipped{$s};
    my $db = $DB;
    my %attr = (RaiseError => 0, PrintError => 0, AutoCommit => 1,
                mariadb_connect_timeout => 10, mariadb_read_timeout => 30,
                mariadb_write_timeout => 30);
    for my $o (@opts) {
        if ($o eq "nodb") { $db = undef }
        elsif ($o eq "multi") { $attr{mariadb_multi_statements} = 1 }
        elsif ($o eq "server_prepare") { }   # `ps` prepares on the server anyway
        else { $skipped{$s} = 1; return }    # ignore_space, bulk
    }
    my $dsn = "DBI:MariaDB:host=$HOST;port=$PORT" . (defined $db ? ";database=$db" : "");
    my $dbh = DBI->connect($dsn, $USER, $PASS, \%attr);
    if (!$dbh) {
        emit($id, "ERR " . ($DBI::err // 0));
        return;
    }
    $sessions{$s} = $dbh;
}

sub query {
    my ($dbh, $id, $sql, $header, $msg) = @_;
    my $sth = $dbh->prepare($sql, { mariadb_server_prepare => 0 });
    return emit($id, err($dbh, $msg)) unless $sth;
    my $rv = $sth->execute;
    return emit($id, err($sth, $msg)) unless defined $rv;
    emit($id, results($sth, $rv, $header, $msg));
}

sub prepared {
    my ($dbh, $id, $rest) = @_;
    my ($sql, $spec) = split / ;; /, $rest, 2;
    my $sth = $dbh->prepare($sql, { mariadb_server_prepare => 1 });
    return emit($id, err($dbh)) unless $sth;
    my $i = 1;
    for my $p (split ' ', $spec // "") {
        my ($t, $v) = (substr($p, 0, 1), substr($p, 2));
        if ($t eq "i") { $sth->bind_param($i, $v, SQL_INTEGER) }
        elsif ($t eq "s") { $sth->bind_param($i, $v, SQL_VARCHAR) }
        elsif ($t eq "n") { $sth->bind_param($i, undef, SQL_VARCHAR) }
        else { die "parameter $p\n" }
        $i++;
    }
    my $rv = $sth->execute;
    return emit($id, err($sth)) unless defined $rv;
    emit($id, results($sth, $rv, 0, 0, 1));
}

sub stream {
    my ($dbh, $id, $sql) = @_;
    my ($rows, $sum) = (0, 0);
    my $sth = $dbh->prepare($sql);
    return emit($id, err($dbh)) unless $sth && defined $sth->execute;
    while (my $r = $sth->fetchrow_arrayref) {
        $rows++;
        $sum += $r->[0];
    }
    emit($id, $sth->err ? err($sth) . " after rows=$rows" : "rows=$rows sum=$sum");
}

sub blob {
    my ($dbh, $id, $table, $n) = @_;
    my $data = join("", map { chr(($_ * 7 + 3) % 251) } 0 .. $n - 1);
    my $sth = $dbh->prepare("INSERT INTO $table (id, b) VALUES (1, ?)", { mariadb_server_prepare => 1 });
    return emit($id, err($dbh)) unless $sth;
    $sth->bind_param(1, $data, SQL_BLOB);
    my $rv = $sth->execute;
    return emit($id, err($sth)) unless defined $rv;
    my $ins = "OK $rv";
    my $row = $dbh->selectrow_arrayref("SELECT LENGTH(b), MD5(b), b FROM $table WHERE id = 1");
    return emit($id, "$ins " . err($dbh)) if $dbh->err;
    return emit($id, "$ins no row") unless $row;
    my $back = md5_hex($row->[2]) eq md5_hex($data) ? "read back equal" : "read back " . md5_hex($row->[2]);
    emit($id, "$ins len=$row->[0] md5=$row->[1] $back");
}

# execute_array: one execute a row in DBD::MariaDB; counts printed as runs.
sub batch {
    my ($dbh, $id, $table, $n) = @_;
    my $sth = $dbh->prepare("INSERT INTO $table VALUES (?, ?)");
    return emit($id, err($dbh)) unless $sth;
    my @status;
    $sth->execute_array({ ArrayTupleStatus => \@status }, [1 .. $n], [map { "v$_" } 1 .. $n]);
    my @c = map { ref $_ ? "ERR $_->[0]" : $_ } @status;
    my @out;
    for (my $i = 0; $i < @c;) {
        my $j = $i;
        $j++ while $j < @c && $c[$j] eq $c[$i];
        push @out, ($j - $i) . "x$c[$i]";
        $i = $j;
    }
    emit($id, join(",", @out));
}

sub meta {
    my ($dbh, $id, $kind, $table) = @_;
    my $sth;
    if ($kind eq "tables") { $sth = $dbh->table_info(undef, undef, $table, "TABLE") }
    elsif ($kind eq "columns") { $sth = $dbh->column_info(undef, undef, $table, "%") }
    elsif ($kind eq "pk") { $sth = $dbh->primary_key_info(undef, undef, $table) }
    else { die "meta $kind\n" }
    return emit($id, err($dbh)) unless $sth;
    my $col = $kind eq "tables" ? "TABLE_NAME" : "COLUMN_NAME";
    my @names;
    while (my $r = $sth->fetchrow_hashref) {
        push @names, val($r->{TABLE_CAT} // $r->{TABLE_SCHEM}) . "." . $r->{$col};
    }
    emit($id, "n=" . scalar(@names) . " [" . join(", ", @names) . "]");
}

sub step {
    my ($line) = @_;
    my ($op, $s, $id, $rest) = split ' ', $line, 4;
    $rest //= "";
    if ($op eq "close") {
        $sessions{$s}->disconnect if $sessions{$s};
        delete $sessions{$s};
        delete $skipped{$s};
        return;
    }
    return connect_session($s, $id, split(' ', $rest)) if $op eq "connect";
    return if $skipped{$s};
    my $dbh = $sessions{$s} or return emit($id, "ERR no session");
    my @a = split ' ', $rest;
    if ($op =~ /^q([mh]?)$/) { query($dbh, $id, $rest, $1 eq "h", $1 eq "m") }
    elsif ($op eq "ps") { prepared($dbh, $id, $rest) }
    elsif ($op eq "stream") { stream($dbh, $id, $rest) }
    elsif ($op eq "blob") { blob($dbh, $id, @a) }
    elsif ($op eq "batch") { batch($dbh, $id, @a) }
    elsif ($op eq "meta") { meta($dbh, $id, @a) }
    elsif ($op =~ /^(call|cursor|changeuser)$/) { }
    else { die "unknown command: $line\n" }
}

sub run {
    my ($cmds, $from, $to) = @_;
    for (my $i = $from; $i < $to; $i++) {
        my ($op, $arg) = split ' ', $cmds->[$i], 2;
        if ($op ne "repeat") {
            step($cmds->[$i]);
            next;
        }
        my ($depth, $end) = (0, $i);
        for (; $end < @$cmds; $end++) {
            my ($o) = split ' ', $cmds->[$end], 2;
            $depth++ if $o eq "repeat";
            last if $o eq "end" && --$depth == 0;
        }
        my $outer = !$collected;
        $collected = { order => [], vals => {} } if $outer;
        run($cmds, $i + 1, $end) for 1 .. $arg;
        if ($outer) {
            for my $id (@{$collected->{order}}) {
                print "$id\t" . join(" | ", sort keys %{$collected->{vals}{$id}}) . "\n";
            }
            $collected = undef;
        }
        $i = $end;
    }
}

open(my $fh, "<:encoding(UTF-8)", $FILE) or die "$FILE: $!\n";
my @cmds;
while (my $l = <$fh>) {
    $l =~ s/^\s+|\s+$//g;
    next if $l eq "" || $l =~ /^#/;
    $l =~ s/\$DB/$DB/g;
    $l =~ s/\$USER/$USER/g;
    $l =~ s/\$PASS/$PASS/g;
    push @cmds, $l;
}
close $fh;
run(\@cmds, 0, scalar @cmds);
$_->disconnect for values %sessions;
