package io.raftlog.chaos;

import java.util.List;

/**
 * One entry of a run's history. Times are milliseconds since the run started. Values are unique
 * strings {@code p<producer>-<seq>}, so every record in the log can be traced to one send.
 */
public sealed interface Event {

  long t();

  /** One line of JSON for the history file. */
  String toJson();

  /** The application handed a record to its producer. */
  record Send(long t, int producer, long seq, int partition, String value) implements Event {
    @Override
    public String toJson() {
      return "{\"t\":" + t + ",\"type\":\"send\",\"producer\":" + producer + ",\"seq\":" + seq + ",\"partition\":"
          + partition + ",\"value\":" + Json.quote(value) + "}";
    }
  }

  /** The producer reported the record acknowledged (acks=all) at this offset. */
  record Ack(long t, int producer, long seq, int partition, long offset, String value) implements Event {
    @Override
    public String toJson() {
      return "{\"t\":" + t + ",\"type\":\"ack\",\"producer\":" + producer + ",\"seq\":" + seq + ",\"partition\":"
          + partition + ",\"offset\":" + offset + ",\"value\":" + Json.quote(value) + "}";
    }
  }

  /** The producer reported the send failed: the record may or may not be in the log (indeterminate). */
  record Fail(long t, int producer, long seq, int partition, String value, String error) implements Event {
    @Override
    public String toJson() {
      return "{\"t\":" + t + ",\"type\":\"fail\",\"producer\":" + producer + ",\"seq\":" + seq + ",\"partition\":"
          + partition + ",\"value\":" + Json.quote(value) + ",\"error\":" + Json.quote(error) + "}";
    }
  }

  /** A record as read by a consumer (or the final reader). */
  record Read(int partition, long offset, String value) {}

  /** One poll of a following consumer that returned records, in the order returned. */
  record Poll(long t, int consumer, List<Read> records) implements Event {
    @Override
    public String toJson() {
      StringBuilder sb = new StringBuilder("{\"t\":").append(t).append(",\"type\":\"poll\",\"consumer\":")
          .append(consumer).append(",\"records\":[");
      for (int i = 0; i < records.size(); i++) {
        Read r = records.get(i);
        sb.append(i == 0 ? "" : ",").append("[").append(r.partition()).append(',').append(r.offset()).append(',')
            .append(Json.quote(r.value())).append(']');
      }
      return sb.append("]}").toString();
    }
  }

  /** A consumer's poll failed (expected during faults; the consumer retries). */
  record PollError(long t, int consumer, String error) implements Event {
    @Override
    public String toJson() {
      return "{\"t\":" + t + ",\"type\":\"poll-error\",\"consumer\":" + consumer + ",\"error\":" + Json.quote(error)
          + "}";
    }
  }

  /** A fault was injected ({@code heal == false}) or removed ({@code heal == true}). */
  record Nemesis(long t, boolean heal, String kind, String detail) implements Event {
    @Override
    public String toJson() {
      return "{\"t\":" + t + ",\"type\":\"" + (heal ? "heal" : "fault") + "\",\"kind\":" + Json.quote(kind)
          + ",\"detail\":" + Json.quote(detail) + "}";
    }
  }

  /**
   * A consumer-group member process ({@link GroupMemberMain}) was started, SIGKILLed or stopped.
   *
   * @param action start, kill or stop
   * @param label the process's label (its output file is members/LABEL.jsonl)
   * @param pid its process id
   * @param detail free text (why, what it was doing)
   */
  record Member(long t, String action, String label, long pid, String detail) implements Event {
    @Override
    public String toJson() {
      return "{\"t\":" + t + ",\"type\":\"member\",\"action\":" + Json.quote(action) + ",\"label\":"
          + Json.quote(label) + ",\"pid\":" + pid + ",\"detail\":" + Json.quote(detail) + "}";
    }
  }

  /** A phase of the run: workload-start, workload-end, final-read, ... */
  record Phase(long t, String name, String detail) implements Event {
    @Override
    public String toJson() {
      return "{\"t\":" + t + ",\"type\":\"phase\",\"name\":" + Json.quote(name) + ",\"detail\":" + Json.quote(detail)
          + "}";
    }
  }
}
