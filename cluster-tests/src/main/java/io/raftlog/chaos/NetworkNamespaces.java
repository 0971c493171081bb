package io.raftlog.chaos;

import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Whether this machine lets us create network namespaces (root and iproute2 are needed). */
public final class NetworkNamespaces {

  private NetworkNamespaces() {}

  /** Empty when namespaces work; otherwise why not, in words for the operator. */
  public static Optional<String> unavailableReason() {
    String name = "rlprobe" + ProcessHandle.current().pid();
    try {
      int added = exec("ip", "netns", "add", name);
      if (added != 0) {
        return Optional.of("`ip netns add` failed (exit " + added + "): network namespaces need root and iproute2");
      }
      exec("ip", "netns", "delete", name);
      return Optional.empty();
    } catch (Exception e) {
      return Optional.of("cannot run `ip netns`: " + e.getMessage());
    }
  }

  private static int exec(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    if (!p.waitFor(10, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return -1;
    }
    return p.exitValue();
  }
}
