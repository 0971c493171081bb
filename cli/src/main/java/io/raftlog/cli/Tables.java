package io.raftlog.cli;

import java.util.List;

/** Left-aligned text tables with two spaces between columns and no trailing spaces. */
final class Tables {
    private Tables() {
    }

    static String format(List<String[]> rows) {
        int columns = rows.get(0).length;
        int[] widths = new int[columns];
        for (String[] row : rows) {
            for (int c = 0; c < columns; c++) {
                widths[c] = Math.max(widths[c], row[c].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < rows.size(); r++) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < columns; c++) {
                line.append(rows.get(r)[c]);
                if (c < columns - 1) {
                    line.append(" ".repeat(widths[c] - rows.get(r)[c].length() + 2));
                }
            }
            sb.append(line.toString().stripTrailing());
            if (r < rows.size() - 1) {
                sb.append(System.lineSeparator());
            }
        }
        return sb.toString();
    }
}
