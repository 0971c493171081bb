package io.raftlog.broker;

import io.raftlog.api.v1.ErrorCode;

/**
 * A request failed with a stable error code; the rpc layer turns it into a protocol {@code Error}.
 * Never used for bugs: those stay unchecked exceptions and become UNKNOWN_SERVER_ERROR.
 */
public final class BrokerException extends RuntimeException {
  private final ErrorCode code;
  private final int leaderId;

  public BrokerException(ErrorCode code, String message) {
    this(code, message, -1);
  }

  public BrokerException(ErrorCode code, String message, int leaderId) {
    super(message, null, false, false);
    this.code = code;
    this.leaderId = leaderId;
  }

  public ErrorCode code() {
    return code;
  }

  /** Leader hint for NOT_LEADER, or -1. */
  public int leaderId() {
    return leaderId;
  }
}
