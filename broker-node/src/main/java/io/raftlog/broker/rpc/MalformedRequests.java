package io.raftlog.broker.rpc;

import com.google.protobuf.Message;
import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.SecurityLevel;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.raftlog.api.v1.Error;
import io.raftlog.api.v1.ErrorCode;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a request message that is not valid protobuf with INVALID_ARGUMENT (and the usual
 * {@link Error} trailer) saying what could not be parsed.
 *
 * <p>Left alone, grpc-java parses the request before the service sees it, and a parse failure
 * becomes {@code UNKNOWN: Application error processing RPC} for the client plus a SEVERE stack
 * trace per request in the broker's log. Here each method of a service is re-registered with a
 * pass-through request marshaller, and the original marshaller runs inside the call handler where
 * its failure can be answered properly. Unknown fields are not an error: protobuf skips them (and
 * a known field sent with another wire type is an unknown field to it).
 *
 * <p>Malformed requests are logged at WARN at most once per {@link #REPORT_INTERVAL} (with the
 * count of those in between), each one at DEBUG: a broken client must not flood the log.
 */
public final class MalformedRequests {

  private static final Logger LOG = LoggerFactory.getLogger(MalformedRequests.class);
  static final Duration REPORT_INTERVAL = Duration.ofMinutes(1);

  private static final MethodDescriptor.Marshaller<InputStream> PASS_THROUGH = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(InputStream value) {
      return value;
    }

    @Override
    public InputStream parse(InputStream stream) {
      return stream;
    }
  };

  private final String prefix;
  private final Clock clock;
  private long lastReportMs = Long.MIN_VALUE;
  private long suppressed;

  /**
   * @param prefix who speaks in log lines, e.g. {@code broker-1}
   */
  public MalformedRequests(String prefix, Clock clock) {
    this.prefix = prefix;
    this.clock = clock;
  }

  /** The same service, answering unparseable requests with INVALID_ARGUMENT. */
  public ServerServiceDefinition guard(ServerServiceDefinition service) {
    ServiceDescriptor original = service.getServiceDescriptor();
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      methods.add(guard(method));
    }
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName())
        .setSchemaDescriptor(original.getSchemaDescriptor());
    methods.forEach(m -> descriptor.addMethod(m.getMethodDescriptor()));
    ServerServiceDefinition.Builder out = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(out::addMethod);
    return out.build();
  }

  private <ReqT, RespT> ServerMethodDefinition<InputStream, RespT> guard(ServerMethodDefinition<ReqT, RespT> def) {
    MethodDescriptor<ReqT, RespT> method = def.getMethodDescriptor();
    MethodDescriptor<InputStream, RespT> raw = method.toBuilder(PASS_THROUGH, method.getResponseMarshaller()).build();
    ServerCallHandler<InputStream, RespT> handler = (call, headers) ->
        new GuardedListener<>(call, method, def.getServerCallHandler(), headers);
    return ServerMethodDefinition.create(raw, handler);
  }

  /** Name of a method's request message type, e.g. {@code raftlog.api.v1.ProduceRequest}. */
  static String requestType(MethodDescriptor<?, ?> method) {
    if (method.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> p
        && p.getMessagePrototype() instanceof Message m) {
      return m.getDescriptorForType().getFullName();
    }
    return "request of " + method.getFullMethodName();
  }

  private void report(MethodDescriptor<?, ?> method, ServerCall<?, ?> call, String problem) {
    Object peer = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    long suppressedBefore;
    synchronized (this) {
      long now = clock.millis();
      if (lastReportMs != Long.MIN_VALUE && now - lastReportMs < REPORT_INTERVAL.toMillis()) {
        suppressed++;
        LOG.debug("[{}] malformed {} from {}: {}", prefix, method.getFullMethodName(), peer, problem);
        return;
      }
      lastReportMs = now;
      suppressedBefore = suppressed;
      suppressed = 0;
    }
    LOG.warn("[{}] refused a malformed {} call from {} with INVALID_ARGUMENT: {}{}", prefix,
        method.getFullMethodName(), peer, problem, suppressedBefore == 0 ? ""
            : " (" + suppressedBefore + " more malformed requests since the last report, logged at DEBUG)");
  }

  /**
   * Parses each message with the method's own marshaller and hands it on, or closes the call with
   * INVALID_ARGUMENT. gRPC calls a listener's methods one at a time, so the flag needs no lock.
   */
  private final class GuardedListener<ReqT, RespT> extends ServerCall.Listener<InputStream> {
    private final ServerCall<InputStream, RespT> call;
    private final MethodDescriptor<ReqT, RespT> method;
    private final ServerCall.Listener<ReqT> delegate;
    private boolean rejected;

    GuardedListener(ServerCall<InputStream, RespT> call, MethodDescriptor<ReqT, RespT> method,
        ServerCallHandler<ReqT, RespT> handler, Metadata headers) {
      this.call = call;
      this.method = method;
      this.delegate = handler.startCall(new TypedCall<>(call, method), headers);
    }

    @Override
    public void onMessage(InputStream message) {
      if (rejected) {
        return;
      }
      ReqT request;
      try {
        request = method.parseRequest(message);
      } catch (RuntimeException e) {
        reject(e);
        return;
      }
      delegate.onMessage(request);
    }

    private void reject(RuntimeException e) {
      rejected = true;
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      String problem = "malformed " + requestType(method) + ": " + cause.getMessage()
          + " (not a valid protobuf encoding of the request; is the client built from the raftlog.api.v1 protos?)";
      report(method, call, problem);
      Metadata trailers = new Metadata();
      trailers.put(GrpcErrors.ERROR_KEY, Error.newBuilder().setCode(ErrorCode.INVALID_ARGUMENT).setMessage(problem).build());
      call.close(Status.INVALID_ARGUMENT.withDescription(problem), trailers);
      // The service never sees the call again: tell it the call is over (a stream's request
      // observer gets onError, so it stops answering).
      delegate.onCancel();
    }

    @Override
    public void onHalfClose() {
      if (!rejected) {
        delegate.onHalfClose();
      }
    }

    @Override
    public void onCancel() {
      if (!rejected) {
        delegate.onCancel();
      }
    }

    @Override
    public void onComplete() {
      if (!rejected) {
        delegate.onComplete();
      }
    }

    @Override
    public void onReady() {
      if (!rejected) {
        delegate.onReady();
      }
    }
  }

  /** The call as the service expects it: typed requests, the original method descriptor. */
  private static final class TypedCall<ReqT, RespT> extends ServerCall<ReqT, RespT> {
    private final ServerCall<InputStream, RespT> delegate;
    private final MethodDescriptor<ReqT, RespT> method;

    TypedCall(ServerCall<InputStream, RespT> delegate, MethodDescriptor<ReqT, RespT> method) {
      this.delegate = delegate;
      this.method = method;
    }

    @Override
    public void request(int numMessages) {
      delegate.request(numMessages);
    }

    @Override
    public void sendHeaders(Metadata headers) {
      delegate.sendHeaders(headers);
    }

    @Override
    public void sendMessage(RespT message) {
      delegate.sendMessage(message);
    }

    @Override
    public boolean isReady() {
      return delegate.isReady();
    }

    @Override
    public void close(Status status, Metadata trailers) {
      delegate.close(status, trailers);
    }

    @Override
    public boolean isCancelled() {
      return delegate.isCancelled();
    }

    @Override
    public void setMessageCompression(boolean enabled) {
      delegate.setMessageCompression(enabled);
    }

    @Override
    public void setCompression(String compressor) {
      delegate.setCompression(compressor);
    }

    @Override
    public void setOnReadyThreshold(int numBytes) {
      delegate.setOnReadyThreshold(numBytes);
    }

    @Override
    public SecurityLevel getSecurityLevel() {
      return delegate.getSecurityLevel();
    }

    @Override
    public Attributes getAttributes() {
      return delegate.getAttributes();
    }

    @Override
    public String getAuthority() {
      return delegate.getAuthority();
    }

    @Override
    public MethodDescriptor<ReqT, RespT> getMethodDescriptor() {
      return method;
    }
  }
}
