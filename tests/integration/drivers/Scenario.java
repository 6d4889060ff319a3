/* The driver scenario (scenario.txt) run by MariaDB Connector/J 2.7, the
 * JDBC driver Debian ships (libmariadb-java): one transcript line per step,
 * "ID<TAB>value", on stdout.  test_drivers.py runs it once directly against
 * hostM1 and once through manx and compares the two transcripts.
 *
 *   java -cp DIR:/usr/share/java/mariadb-java-client.jar Scenario \
 *        HOST PORT USER PASSWORD DB scenario.txt
 *
 * The format of scenario.txt and of the values is in README.md. */

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

public class Scenario {
    private final String host, user, password, db;
    private final int port;
    private final Map<String, Connection> sessions = new HashMap<>();
    /* Sessions opened with an option Connector/J cannot express: their
     * commands are skipped, so the step is simply absent from both
     * transcripts. */
    private final Set<String> skipped = new HashSet<>();
    /* Inside `repeat`: every value each ID took, in first-seen ID order. */
    private LinkedHashMap<String, TreeSet<String>> collected;

    private Scenario(String host, int port, String user, String password, String db) {
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.db = db;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: Scenario HOST PORT USER PASSWORD DB SCENARIO");
            System.exit(2);
        }
        Scenario s = new Scenario(args[0], Integer.parseInt(args[1]), args[2], args[3], args[4]);
        List<String> lines = Files.readAllLines(Paths.get(args[5]), StandardCharsets.UTF_8);
        List<String> cmds = new ArrayList<>();
        for (String l : lines) {
            String t = l.strip();
            if (!t.isEmpty() && !t.startsWith("#"))
                cmds.add(t);
        }
        s.run(cmds, 0, cmds.size());
        for (Connection c : s.sessions.values())
            quietClose(c);
        System.out.flush();
    }

    /* Runs commands [from, to); a `repeat N` runs its block N times. */
    private void run(List<String> cmds, int from, int to) throws Exception {
        for (int i = from; i < to; i++) {
            String[] w = cmds.get(i).split("\\s+", 2);
            if (w[0].equals("repeat")) {
                int end = matchingEnd(cmds, i);
                boolean outer = collected == null;
                if (outer)
                    collected = new LinkedHashMap<>();
                for (int n = Integer.parseInt(w[1].strip()); n > 0; n--)
                    run(cmds, i + 1, end);
                if (outer) {
                    for (Map.Entry<String, TreeSet<String>> e : collected.entrySet())
                        System.out.println(e.getKey() + "\t" + String.join(" | ", e.getValue()));
                    collected = null;
                }
                i = end;
            } else {
                step(subst(cmds.get(i)));
            }
        }
    }

    private static int matchingEnd(List<String> cmds, int i) {
        int depth = 0;
        for (int j = i; j < cmds.size(); j++) {
            String op = cmds.get(j).split("\\s+", 2)[0];
            if (op.equals("repeat"))
                depth++;
            else if (op.equals("end") && --depth == 0)
                return j;
        }
        throw new IllegalArgumentException("repeat without end: " + cmds.get(i));
    }

    private String subst(String s) {
        return s.replace("$DB", db).replace("$USER", user).replace("$PASS", password);
    }

    private void emit(String id, String value) {
        value = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t");
        if (collected != null)
            collected.computeIfAbsent(id, k -> new TreeSet<>()).add(value);
        else
            System.out.println(id + "\t" + value);
    }

    private void step(String line) throws Exception {
        String[] w = line.split("\\s+", 4);
        String op = w[0], s = w[1];
        if (op.equals("close")) {
            Connection c = sessions.remove(s);
            skipped.remove(s);
            if (c != null)
                quietClose(c);
            return;
        }
        String id = w[2], rest = w.length > 3 ? w[3] : "";
        if (op.equals("connect")) {
            connect(s, id, rest);
            return;
        }
        if (skipped.contains(s))
            return;
        Connection c = sessions.get(s);
        if (c == null) {
            emit(id, "ERR no session");
            return;
        }
        switch (op) {
        case "q":
        case "qm":
        case "qh":
            try (Statement st = c.createStatement()) {
                emit(id, results(st, st.execute(rest), op.equals("qh"), op.equals("qm")));
            } catch (SQLException e) {
                emit(id, err(e, op.equals("qm")));
            }
            break;
        case "ps":
            prepared(c, id, rest);
            break;
        case "call":
            call(c, id, rest);
            break;
        case "meta":
            meta(c, id, rest);
            break;
        case "stream":
            stream(c, id, rest, false);
            break;
        case "cursor":
            stream(c, id, rest, true);
            break;
        case "blob":
            blob(c, id, rest);
            break;
        case "batch":
            batch(c, id, rest);
            break;
        case "changeuser":
            /* Connector/J has no COM_CHANGE_USER. */
            break;
        default:
            throw new IllegalArgumentException("unknown command: " + line);
        }
    }

    private void connect(String s, String id, String opts) {
        Connection old = sessions.remove(s);
        if (old != null)
            quietClose(old);
        skipped.remove(s);
        String database = db;
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("connectTimeout", "10000");
        p.setProperty("socketTimeout", "30000");
        for (String o : opts.isEmpty() ? new String[0] : opts.split("\\s+")) {
            switch (o) {
            case "nodb":
                database = "";
                break;
            case "multi":
                p.setProperty("allowMultiQueries", "true");
                break;
            case "server_prepare":
                p.setProperty("useServerPrepStmts", "true");
                break;
            case "bulk":
                p.setProperty("useBulkStmts", "true");
                break;
            default:
                /* ignore_space: no Connector/J option sets CLIENT_IGNORE_SPACE. */
                skipped.add(s);
                return;
            }
        }
        try {
            sessions.put(s, DriverManager.getConnection(
                "jdbc:mariadb://" + host + ":" + port + "/" + database, p));
        } catch (SQLException e) {
            emit(id, err(e, false));
        }
    }

    private static void quietClose(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            /* A session the server or manx already closed. */
        }
    }

    /* Every result of an executed statement: result sets, update counts,
     * then the error that ended them if any. */
    private static String results(Statement st, boolean isRs, boolean header, boolean msg) {
        List<String> parts = new ArrayList<>();
        try {
            while (true) {
                if (isRs) {
                    try (ResultSet rs = st.getResultSet()) {
                        parts.add(rows(rs, header));
                    }
                } else {
                    int n = st.getUpdateCount();
                    if (n == -1)
                        break;
                    parts.add("OK " + n);
                }
                isRs = st.getMoreResults();
            }
        } catch (SQLException e) {
            parts.add(err(e, msg));
        }
        return String.join(" / ", parts);
    }

    private static String rows(ResultSet rs, boolean header) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        int n = md.getColumnCount();
        StringBuilder b = new StringBuilder();
        if (header) {
            List<String> labels = new ArrayList<>();
            for (int i = 1; i <= n; i++)
                labels.add(md.getColumnLabel(i));
            b.append("{").append(String.join(",", labels)).append("}");
        }
        b.append("[");
        boolean first = true;
        while (rs.next()) {
            if (!first)
                b.append(";");
            first = false;
            for (int i = 1; i <= n; i++) {
                if (i > 1)
                    b.append(",");
                String v = rs.getString(i);
                b.append(v == null ? "NULL" : v);
            }
        }
        return b.append("]").toString();
    }

    private static String err(SQLException e, boolean msg) {
        String s = "ERR " + e.getErrorCode();
        if (e.getErrorCode() == 0)
            s += " " + e.getSQLState();
        if (msg) {
            /* Connector/J prefixes the server's message with its own
             * "(conn=N)" and query text; keep the server's words only. */
            String m = e.getMessage();
            int nl = m.indexOf('\n');
            if (nl >= 0)
                m = m.substring(0, nl);
            m = m.replaceAll("^\\(conn=\\d+\\) ", "");
            s += " " + m;
        }
        return s;
    }

    private void prepared(Connection c, String id, String rest) {
        String[] sp = rest.split(" ;; ", 2);
        try (PreparedStatement ps = c.prepareStatement(sp[0])) {
            if (sp.length > 1) {
                int i = 1;
                for (String p : sp[1].strip().split("\\s+")) {
                    String v = p.substring(2);
                    switch (p.charAt(0)) {
                    case 'i':
                        ps.setLong(i, Long.parseLong(v));
                        break;
                    case 's':
                        ps.setString(i, v);
                        break;
                    case 'n':
                        ps.setNull(i, Types.VARCHAR);
                        break;
                    default:
                        throw new IllegalArgumentException("parameter " + p);
                    }
                    i++;
                }
            }
            emit(id, results(ps, ps.execute(), false, false));
        } catch (SQLException e) {
            emit(id, err(e, false));
        }
    }

    /* CALL PROC(N, ?) through a CallableStatement: Connector/J runs it with
     * user variables (client-side) or as a server-side prepared CALL. */
    private void call(Connection c, String id, String rest) {
        String[] a = rest.split("\\s+");
        try (CallableStatement cs = c.prepareCall("{call " + a[0] + "(?, ?)}")) {
            cs.setInt(1, Integer.parseInt(a[1]));
            cs.registerOutParameter(2, Types.INTEGER);
            cs.execute();
            String v = cs.getString(2);
            emit(id, "out=" + (v == null ? "NULL" : v));
        } catch (SQLException e) {
            emit(id, err(e, false));
        }
    }

    private void meta(Connection c, String id, String rest) {
        String[] a = rest.split("\\s+");
        try {
            DatabaseMetaData md = c.getMetaData();
            String cat = c.getCatalog();
            ResultSet rs;
            String col;
            switch (a[0]) {
            case "tables":
                rs = md.getTables(cat, null, a[1], null);
                col = "TABLE_NAME";
                break;
            case "columns":
                rs = md.getColumns(cat, null, a[1], "%");
                col = "COLUMN_NAME";
                break;
            case "pk":
                rs = md.getPrimaryKeys(cat, null, a[1]);
                col = "COLUMN_NAME";
                break;
            default:
                throw new IllegalArgumentException("meta " + a[0]);
            }
            List<String> names = new ArrayList<>();
            try (ResultSet r = rs) {
                while (r.next())
                    names.add(r.getString("TABLE_CAT") + "." + r.getString(col));
            }
            emit(id, "catalog=" + cat + " n=" + names.size() + " " + names);
        } catch (SQLException e) {
            emit(id, err(e, false));
        }
    }

    /* A result read a chunk at a time (setFetchSize): as a text-protocol
     * stream, or from a server-side prepared statement. */
    private void stream(Connection c, String id, String sql, boolean prepared) {
        long rows = 0, sum = 0;
        try (Statement st = prepared ? c.prepareStatement(sql) : c.createStatement()) {
            st.setFetchSize(1000);
            try (ResultSet rs = prepared ? ((PreparedStatement) st).executeQuery() : st.executeQuery(sql)) {
                while (rs.next()) {
                    rows++;
                    sum += rs.getLong(1);
                }
            }
            emit(id, "rows=" + rows + " sum=" + sum);
        } catch (SQLException e) {
            emit(id, err(e, false) + " after rows=" + rows);
        }
    }

    private void blob(Connection c, String id, String rest) throws Exception {
        String[] a = rest.split("\\s+");
        byte[] data = new byte[Integer.parseInt(a[1])];
        for (int i = 0; i < data.length; i++)
            data[i] = (byte) ((i * 7 + 3) % 251);
        String ins;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + a[0] + " (id, b) VALUES (1, ?)")) {
            ps.setBytes(1, data);
            ins = "OK " + ps.executeUpdate();
        } catch (SQLException e) {
            emit(id, err(e, false));
            return;
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT LENGTH(b), MD5(b), b FROM " + a[0] + " WHERE id = 1")) {
            if (!rs.next()) {
                emit(id, ins + " no row");
                return;
            }
            String server = rs.getString(2);
            String client = md5(rs.getBytes(3));
            emit(id, ins + " len=" + rs.getLong(1) + " md5=" + server
                 + (client.equals(md5(data)) ? " read back equal" : " read back " + client));
        } catch (SQLException e) {
            emit(id, ins + " " + err(e, false));
        }
    }

    private static String md5(byte[] b) throws Exception {
        StringBuilder s = new StringBuilder();
        for (byte x : MessageDigest.getInstance("MD5").digest(b))
            s.append(String.format("%02x", x));
        return s.toString();
    }

    /* N rows in one executeBatch: with MariaDB's bulk capability Connector/J
     * sends COM_STMT_BULK_EXECUTE and answers SUCCESS_NO_INFO (-2) per row;
     * without it, one count per row.  Printed as runs, "100x1". */
    private void batch(Connection c, String id, String rest) {
        String[] a = rest.split("\\s+");
        int n = Integer.parseInt(a[1]);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + a[0] + " VALUES (?, ?)")) {
            for (int i = 1; i <= n; i++) {
                ps.setInt(1, i);
                ps.setString(2, "v" + i);
                ps.addBatch();
            }
            emit(id, runs(ps.executeBatch()));
        } catch (SQLException e) {
            emit(id, err(e, false));
        }
    }

    private static String runs(int[] counts) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < counts.length; ) {
            int j = i;
            while (j < counts.length && counts[j] == counts[i])
                j++;
            out.add((j - i) + "x" + counts[i]);
            i = j;
        }
        return String.join(",", out);
    }
}
