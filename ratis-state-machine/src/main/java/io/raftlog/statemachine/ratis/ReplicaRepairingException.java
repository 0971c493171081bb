package io.raftlog.statemachine.ratis;

import java.io.IOException;

/**
 * A write refused by a replica that is repairing its segment files (or applying the entries
 * deferred meanwhile): retriable, another replica is to lead. Ratis hands it to the client as the
 * cause of a StateMachineException, rebuilt by class name from its message across the network, so
 * it keeps a public {@code (String)} constructor.
 */
public final class ReplicaRepairingException extends IOException {

  private static final long serialVersionUID = 1L;

  public ReplicaRepairingException(String message) {
    super(message);
  }
}
