package io.raftlog.broker.raft;

import java.net.URL;
import java.security.CodeSource;
import java.util.Objects;
import org.apache.ratis.util.PureJavaCrc32C;

/**
 * Which class computes the CRC-32C of Ratis' Raft log in this JVM: Raftlog's replacement of
 * {@link PureJavaCrc32C} (the CPU's CRC instruction), or Ratis' own table-driven one when the class
 * path puts Ratis' jar first. Both write the same checksums; only the CPU cost differs.
 */
public final class RaftLogChecksum {

  private RaftLogChecksum() {}

  /** True when the replacement shipped in this module is the class Ratis uses. */
  public static boolean replacementActive() {
    return Objects.equals(location(PureJavaCrc32C.class), location(RaftLogChecksum.class));
  }

  /** Where the class Ratis uses was loaded from, for the operator. */
  public static String loadedFrom() {
    URL url = location(PureJavaCrc32C.class);
    return url == null ? "(unknown)" : url.toString();
  }

  private static URL location(Class<?> c) {
    CodeSource source = c.getProtectionDomain().getCodeSource();
    return source == null ? null : source.getLocation();
  }
}
