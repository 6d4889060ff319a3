<?php
/* The driver scenario (scenario.txt) run by PHP mysqli on mysqlnd (Debian's
 * php-cli + php-mysql): one transcript line per step, "ID<TAB>value", on
 * stdout.  test_drivers.py runs it once directly against hostM1 and once
 * through manx and compares the two transcripts.
 *
 *   php scenario.php HOST PORT USER PASSWORD DB scenario.txt
 *
 * The format of scenario.txt and of the values is in README.md.  mysqli
 * prepares on the server always, reads a statement's results one by one
 * (more_results/next_result), streams with use_result, opens server-side
 * cursors, sends long data, and has COM_CHANGE_USER and
 * CLIENT_IGNORE_SPACE; it has no batch API, callable statements or
 * metadata calls (those steps are skipped). */

mysqli_report(MYSQLI_REPORT_OFF);

if ($argc != 7) {
    fwrite(STDERR, "usage: php scenario.php HOST PORT USER PASSWORD DB SCENARIO\n");
    exit(2);
}
[, $HOST, $PORT, $USER, $PASS, $DB, $FILE] = $argv;

$sessions = [];     // name => mysqli
$multi = [];        // name => true when opened with `multi`
$skipped = [];      // name => true: opened with an option mysqli cannot express
$collected = null;  // inside `repeat`: id => [value => true], in first-seen id order

function emit($id, $value)
{
    global $collected;
    $value = str_replace(["\\", "\n", "\t"], ["\\\\", "\\n", "\\t"], $value);
    if ($collected !== null)
        $collected[$id][$value] = true;
    else
        echo "$id\t$value\n";
}

function err($errno, $error, $msg = false)
{
    return "ERR $errno" . ($msg ? " $error" : "");
}

function val($v)
{
    return $v === null ? "NULL" : (string)$v;
}

function rows($res, $header)
{
    $s = "";
    if ($header)
        $s .= "{" . implode(",", array_map(fn($f) => $f->name, $res->fetch_fields())) . "}";
    $out = [];
    while (($row = $res->fetch_row()) !== null && $row !== false)
        $out[] = implode(",", array_map('val', $row));
    $res->free();
    return $s . "[" . implode(";", $out) . "]";
}

/* Every result of the statement just sent on $c, then the error that
 * ended them if any. */
function results($c, $header, $msg)
{
    $parts = [];
    while (true) {
        $res = $c->store_result();
        if ($res)
            $parts[] = rows($res, $header);
        elseif ($c->errno) {
            $parts[] = err($c->errno, $c->error, $msg);
            break;
        } else
            $parts[] = "OK " . $c->affected_rows;
        if (!$c->more_results())
            break;
        if (!$c->next_result()) {
            $parts[] = err($c->errno, $c->error, $msg);
            break;
        }
    }
    return implode(" / ", $parts);
}

function connect($s, $id, $opts)
{
    global $sessions, $multi, $skipped, $HOST, $PORT, $USER, $PASS, $DB;
    if (isset($sessions[$s]))
        $sessions[$s]->close();
    unset($sessions[$s], $multi[$s], $skipped[$s]);
    $db = $DB;
    $flags = 0;
    foreach ($opts as $o) {
        switch ($o) {
        case "nodb":
            $db = null;
            break;
        case "multi":
            $multi[$s] = true;
            break;
        case "server_prepare":      // mysqli always prepares on the server
            break;
        case "ignore_space":
            $flags |= MYSQLI_CLIENT_IGNORE_SPACE;
            break;
        default:                    // bulk: mysqlnd has no bulk execute
            $skipped[$s] = true;
            return;
        }
    }
    $c = mysqli_init();
    $c->options(MYSQLI_OPT_CONNECT_TIMEOUT, 10);
    $c->options(MYSQLI_OPT_READ_TIMEOUT, 30);
    if (!@$c->real_connect($HOST, $USER, $PASS, $db, (int)$PORT, null, $flags)) {
        emit($id, err($c->connect_errno, $c->connect_error));
        return;
    }
    $sessions[$s] = $c;
}

function bind_params($st, $spec)
{
    $types = "";
    $vals = [];
    foreach (preg_split('/\s+/', trim($spec)) as $p) {
        $v = substr($p, 2);
        switch ($p[0]) {
        case "i": $types .= "i"; $vals[] = (int)$v; break;
        case "s": $types .= "s"; $vals[] = $v; break;
        case "n": $types .= "s"; $vals[] = null; break;
        default: throw new Exception("parameter $p");
        }
    }
    return $st->bind_param($types, ...$vals);
}

function prepared($c, $id, $rest)
{
    $sp = explode(" ;; ", $rest, 2);
    $st = $c->prepare($sp[0]);
    if (!$st) {
        emit($id, err($c->errno, $c->error));
        return;
    }
    if (count($sp) > 1)
        bind_params($st, $sp[1]);
    if (!$st->execute()) {
        emit($id, err($st->errno, $st->error));
    } else {
        $res = $st->get_result();
        if ($res)
            emit($id, rows($res, false));
        elseif ($st->errno)
            emit($id, err($st->errno, $st->error));
        else
            emit($id, "OK " . $st->affected_rows);
    }
    $st->close();
}

function stream($c, $id, $sql)
{
    $rows = $sum = 0;
    if (!$c->real_query($sql) || !($res = $c->use_result())) {
        emit($id, err($c->errno, $c->error));
        return;
    }
    while ($row = $res->fetch_row()) {
        $rows++;
        $sum += (int)$row[0];
    }
    $res->free();
    emit($id, $c->errno ? err($c->errno, $c->error) . " after rows=$rows" : "rows=$rows sum=$sum");
}

/* A read-only server-side cursor, 100 rows a COM_STMT_FETCH. */
function cursor($c, $id, $sql)
{
    $rows = $sum = 0;
    $st = $c->prepare($sql);
    if (!$st) {
        emit($id, err($c->errno, $c->error));
        return;
    }
    $st->attr_set(MYSQLI_STMT_ATTR_CURSOR_TYPE, MYSQLI_CURSOR_TYPE_READ_ONLY);
    $st->attr_set(MYSQLI_STMT_ATTR_PREFETCH_ROWS, 100);
    if (!$st->execute()) {
        emit($id, err($st->errno, $st->error));
        $st->close();
        return;
    }
    $v = null;
    $st->bind_result($v);
    while ($st->fetch()) {
        $rows++;
        $sum += (int)$v;
    }
    emit($id, $st->errno ? err($st->errno, $st->error) . " after rows=$rows" : "rows=$rows sum=$sum");
    $st->close();
}

/* The blob goes as COM_STMT_SEND_LONG_DATA chunks of 256 KB. */
function blob($c, $id, $table, $n)
{
    $data = "";
    for ($i = 0; $i < $n; $i++)
        $data .= chr(($i * 7 + 3) % 251);
    $st = $c->prepare("INSERT INTO $table (id, b) VALUES (1, ?)");
    if (!$st) {
        emit($id, err($c->errno, $c->error));
        return;
    }
    $null = null;
    $st->bind_param("b", $null);
    foreach (str_split($data, 262144) as $chunk)
        $st->send_long_data(0, $chunk);
    if (!$st->execute()) {
        emit($id, err($st->errno, $st->error));
        return;
    }
    $ins = "OK " . $st->affected_rows;
    $st->close();
    $res = $c->query("SELECT LENGTH(b), MD5(b), b FROM $table WHERE id = 1");
    if (!$res) {
        emit($id, "$ins " . err($c->errno, $c->error));
        return;
    }
    $row = $res->fetch_row();
    if (!$row) {
        emit($id, "$ins no row");
        return;
    }
    $back = md5($row[2]) === md5($data) ? "read back equal" : "read back " . md5($row[2]);
    emit($id, "$ins len=$row[0] md5=$row[1] $back");
}

/* No batch API: one prepared INSERT executed N times; the counts printed
 * as runs ("100x1"). */
function batch($c, $id, $table, $n)
{
    $st = $c->prepare("INSERT INTO $table VALUES (?, ?)");
    if (!$st) {
        emit($id, err($c->errno, $c->error));
        return;
    }
    $k = 0;
    $v = "";
    $st->bind_param("is", $k, $v);
    $counts = [];
    for ($k = 1; $k <= $n; $k++) {
        $v = "v$k";
        $counts[] = $st->execute() ? $st->affected_rows : "ERR " . $st->errno;
    }
    $st->close();
    $out = [];
    for ($i = 0; $i < count($counts); $i = $j) {
        for ($j = $i; $j < count($counts) && $counts[$j] === $counts[$i]; $j++)
            ;
        $out[] = ($j - $i) . "x" . $counts[$i];
    }
    emit($id, implode(",", $out));
}

function step($line)
{
    global $sessions, $multi, $skipped;
    $w = preg_split('/\s+/', $line, 4);
    [$op, $s] = $w;
    if ($op === "close") {
        if (isset($sessions[$s]))
            @$sessions[$s]->close();
        unset($sessions[$s], $multi[$s], $skipped[$s]);
        return;
    }
    $id = $w[2];
    $rest = $w[3] ?? "";
    if ($op === "connect") {
        connect($s, $id, $rest === "" ? [] : preg_split('/\s+/', $rest));
        return;
    }
    if (isset($skipped[$s]))
        return;
    if (!isset($sessions[$s])) {
        emit($id, "ERR no session");
        return;
    }
    $c = $sessions[$s];
    $a = preg_split('/\s+/', $rest);
    switch ($op) {
    case "q":
    case "qm":
    case "qh":
        $ok = isset($multi[$s]) ? $c->multi_query($rest) : $c->real_query($rest);
        emit($id, $ok ? results($c, $op === "qh", $op === "qm") : err($c->errno, $c->error, $op === "qm"));
        break;
    case "ps":
        prepared($c, $id, $rest);
        break;
    case "stream":
        stream($c, $id, $rest);
        break;
    case "cursor":
        cursor($c, $id, $rest);
        break;
    case "blob":
        blob($c, $id, $a[0], (int)$a[1]);
        break;
    case "batch":
        batch($c, $id, $a[0], (int)$a[1]);
        break;
    case "changeuser":
        $ok = @$c->change_user($a[0], $a[1], $a[2]);
        emit($id, $ok ? "OK" : err($c->errno, $c->error));
        break;
    case "call":
    case "meta":
        break;
    default:
        throw new Exception("unknown command: $line");
    }
}

function run($cmds, $from, $to)
{
    global $collected;
    for ($i = $from; $i < $to; $i++) {
        $w = preg_split('/\s+/', $cmds[$i], 2);
        if ($w[0] !== "repeat") {
            step($cmds[$i]);
            continue;
        }
        $depth = 0;
        for ($end = $i; $end < count($cmds); $end++) {
            $op = preg_split('/\s+/', $cmds[$end], 2)[0];
            if ($op === "repeat")
                $depth++;
            elseif ($op === "end" && --$depth === 0)
                break;
        }
        $outer = $collected === null;
        if ($outer)
            $collected = [];
        for ($n = (int)$w[1]; $n > 0; $n--)
            run($cmds, $i + 1, $end);
        if ($outer) {
            foreach ($collected as $id => $vals) {
                $vals = array_keys($vals);
                sort($vals, SORT_STRING);
                echo "$id\t" . implode(" | ", $vals) . "\n";
            }
            $collected = null;
        }
        $i = $end;
    }
}

$cmds = [];
foreach (file($FILE, FILE_IGNORE_NEW_LINES) as $l) {
    $l = trim($l);
    if ($l !== "" && $l[0] !== "#")
        $cmds[] = str_replace(['$DB', '$USER', '$PASS'], [$DB, $USER, $PASS], $l);
}
run($cmds, 0, count($cmds));
foreach ($sessions as $c)
    @$c->close();
