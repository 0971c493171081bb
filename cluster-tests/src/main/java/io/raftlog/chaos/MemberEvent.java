package io.raftlog.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One line of a consumer-group member's output file ({@link GroupMemberMain}), one JSON object a
 * line. Every line names the member process ({@code label}, unique per process: a replacement gets
 * a new one), the consumer's member id and member epoch as {@code groupMetadata()} gave them when
 * the line was written, and the member's wall-clock time in ms ({@code ts}: the processes share the
 * machine's clock, so lines of different members can be ordered by it).
 *
 * <p>Partitions are those of the workload topic (a member subscribes to that one topic).
 */
public sealed interface MemberEvent {

  long ts();

  String label();

  String memberId();

  int memberEpoch();

  String toJson();

  /** The member process started (before it subscribed). */
  record Started(long ts, String label, String memberId, int memberEpoch, long pid) implements MemberEvent {
    @Override
    public String toJson() {
      return head(this, "started") + ",\"pid\":" + pid + "}";
    }
  }

  /** {@code onPartitionsAssigned}: the member owns these partitions from now on. */
  record Assigned(long ts, String label, String memberId, int memberEpoch, List<Integer> partitions)
      implements MemberEvent {
    @Override
    public String toJson() {
      return head(this, "assigned") + ",\"partitions\":" + ints(partitions) + "}";
    }
  }

  /** {@code onPartitionsRevoked}: the member gives these partitions up (orderly). */
  record Revoked(long ts, String label, String memberId, int memberEpoch, List<Integer> partitions)
      implements MemberEvent {
    @Override
    public String toJson() {
      return head(this, "revoked") + ",\"partitions\":" + ints(partitions) + "}";
    }
  }

  /** {@code onPartitionsLost}: the member lost these partitions (fenced, expelled). */
  record Lost(long ts, String label, String memberId, int memberEpoch, List<Integer> partitions)
      implements MemberEvent {
    @Override
    public String toJson() {
      return head(this, "lost") + ",\"partitions\":" + ints(partitions) + "}";
    }
  }

  /** The member processed one record (written before the batch's commit is attempted). */
  record Processed(long ts, String label, String memberId, int memberEpoch, String topic, int partition, long offset,
      String value) implements MemberEvent {
    @Override
    public String toJson() {
      return head(this, "processed") + ",\"topic\":" + Json.quote(topic) + ",\"partition\":" + partition
          + ",\"offset\":" + offset + ",\"value\":" + Json.quote(value) + "}";
    }
  }

  /**
   * {@code commitSync} returned for these offsets (partition to the next offset to consume): written
   * only after it returned, so every such line is a commit the coordinator acknowledged.
   * {@code memberEpoch} is the epoch before the commit was sent.
   */
  record Committed(long ts, String label, String memberId, int memberEpoch, Map<Integer, Long> offsets)
      implements MemberEvent {
    @Override
    public String toJson() {
      StringBuilder sb = new StringBuilder(head(this, "committed")).append(",\"offsets\":[");
      int i = 0;
      for (Map.Entry<Integer, Long> e : new TreeMap<>(offsets).entrySet()) {
        sb.append(i++ == 0 ? "" : ",").append('[').append(e.getKey()).append(',').append(e.getValue()).append(']');
      }
      return sb.append("]}").toString();
    }
  }

  /** {@code commitSync} threw: nothing is known about these offsets (indeterminate). */
  record CommitFailed(long ts, String label, String memberId, int memberEpoch, Map<Integer, Long> offsets,
      String error) implements MemberEvent {
    @Override
    public String toJson() {
      StringBuilder sb = new StringBuilder(head(this, "commit-failed")).append(",\"offsets\":[");
      int i = 0;
      for (Map.Entry<Integer, Long> e : new TreeMap<>(offsets).entrySet()) {
        sb.append(i++ == 0 ? "" : ",").append('[').append(e.getKey()).append(',').append(e.getValue()).append(']');
      }
      return sb.append("],\"error\":").append(Json.quote(error)).append('}').toString();
    }
  }

  /** {@code poll} (or a callback inside it) threw; the member goes on polling. */
  record PollFailed(long ts, String label, String memberId, int memberEpoch, String error) implements MemberEvent {
    @Override
    public String toJson() {
      return head(this, "poll-failed") + ",\"error\":" + Json.quote(error) + "}";
    }
  }

  private static String head(MemberEvent e, String type) {
    return "{\"ts\":" + e.ts() + ",\"type\":\"" + type + "\",\"label\":" + Json.quote(e.label()) + ",\"member\":"
        + Json.quote(e.memberId()) + ",\"epoch\":" + e.memberEpoch();
  }

  private static String ints(List<Integer> list) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < list.size(); i++) {
      sb.append(i == 0 ? "" : ",").append(list.get(i));
    }
    return sb.append(']').toString();
  }

  /** Parses one line; throws {@link IllegalArgumentException} when it is not a complete event. */
  static MemberEvent parse(String line) {
    Map<String, Object> o = Json.parseObject(line);
    long ts = number(o, "ts");
    String label = (String) o.get("label");
    String member = (String) o.get("member");
    int epoch = (int) number(o, "epoch");
    String type = (String) o.get("type");
    if (type == null || label == null) {
      throw new IllegalArgumentException("no type or label: " + line);
    }
    member = member == null ? "" : member;
    return switch (type) {
      case "started" -> new Started(ts, label, member, epoch, number(o, "pid"));
      case "assigned" -> new Assigned(ts, label, member, epoch, partitions(o));
      case "revoked" -> new Revoked(ts, label, member, epoch, partitions(o));
      case "lost" -> new Lost(ts, label, member, epoch, partitions(o));
      case "processed" -> new Processed(ts, label, member, epoch, (String) o.get("topic"), (int) number(o, "partition"),
          number(o, "offset"), (String) o.get("value"));
      case "committed" -> new Committed(ts, label, member, epoch, offsets(o));
      case "commit-failed" -> new CommitFailed(ts, label, member, epoch, offsets(o), String.valueOf(o.get("error")));
      case "poll-failed" -> new PollFailed(ts, label, member, epoch, String.valueOf(o.get("error")));
      default -> throw new IllegalArgumentException("unknown type '" + type + "': " + line);
    };
  }

  /**
   * The events of one member output file, in file order. A last line that does not parse is the
   * line the process was writing when it was killed, and is left out; a bad line before the last
   * one is an error (the file is not what a member writes).
   */
  static List<MemberEvent> read(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the member output " + file, e);
    }
    List<MemberEvent> events = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank()) {
        continue;
      }
      try {
        events.add(parse(line));
      } catch (RuntimeException e) {
        if (i == lines.size() - 1) {
          break; // torn by SIGKILL
        }
        throw new IllegalStateException(file + " line " + (i + 1) + " is not a member event: " + e.getMessage(), e);
      }
    }
    return events;
  }

  private static long number(Map<String, Object> o, String key) {
    Object v = o.get(key);
    if (!(v instanceof Long l)) {
      throw new IllegalArgumentException("'" + key + "' is not a number: " + o);
    }
    return l;
  }

  private static List<Integer> partitions(Map<String, Object> o) {
    List<Integer> out = new ArrayList<>();
    if (!(o.get("partitions") instanceof List<?> list)) {
      throw new IllegalArgumentException("no partitions: " + o);
    }
    for (Object v : list) {
      out.add(((Long) v).intValue());
    }
    return out;
  }

  private static Map<Integer, Long> offsets(Map<String, Object> o) {
    Map<Integer, Long> out = new TreeMap<>();
    if (!(o.get("offsets") instanceof List<?> list)) {
      throw new IllegalArgumentException("no offsets: " + o);
    }
    for (Object pair : list) {
      List<?> p = (List<?>) pair;
      out.put(((Long) p.get(0)).intValue(), (Long) p.get(1));
    }
    return out;
  }
}
