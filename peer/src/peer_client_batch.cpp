// PeerClient's batches (peer protocol version 3) and pipelining: several
// requests written before their answers are read (peer_client_core.h).
#include "peer_client_core.h"  // includes <utility> before Asio

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include <boost/asio/use_awaitable.hpp>

#include "fault_point_io.h"

namespace schakel::peer::peer_internal {

bool ClientCore::DeliverOne(const std::vector<std::string_view>& payloads, size_t& next,
                            std::vector<Result<std::string>>& answers) {
  answers[next] = Deliver(payloads[next], /*share=*/true);
  ++next;
  const Result<std::string>& answer = answers[next - 1];
  // Answered (RESPONSE or FAILURE), or refused here without sending.
  if (answer.ok() || connected_ || answer.status().code() == Code::kInvalidInput) return true;
  // The connection failed: the rest is not sent now.
  for (size_t i = next; i < payloads.size(); ++i) answers[i] = answers[next - 1].status();
  return false;
}

std::vector<Result<std::string>> ClientCore::DeliverBatch(const std::vector<std::string_view>& payloads) {
  std::vector<Result<std::string>> answers(payloads.size(), Status::Internal(Where() + ": not sent"));
  Status idle = interrupted_ ? Status::Unavailable(Where() + ": interrupted") : NothingAwaited();
  if (!idle.ok()) {
    for (auto& a : answers) a = idle;
    return answers;
  }
  size_t next = 0;
  while (next < payloads.size()) {
    Status connected = Connect();
    if (!connected.ok()) {
      for (size_t i = next; i < payloads.size(); ++i) answers[i] = connected;
      break;
    }
    // A partner one version behind takes one request at a time.
    if (version_ < kPeerProtocolBatchVersion) {
      if (!DeliverOne(payloads, next, answers)) break;
      continue;
    }
    // The next batch: as many as fit the limits. One that fits no batch
    // goes alone (or, over our own frame limit, is refused unsent).
    size_t count = NextBatch(payloads, next);
    if (count <= 1) {
      if (!DeliverOne(payloads, next, answers)) break;
      continue;
    }
    size_t answered = 0;
    Status s = Run(options_.request_timeout, "waiting for the answers",
                   DoDeliverBatch(payloads, next, count, answers, answered));
    if (!s.ok()) {
      CloseNow();
      // What is answered stays answered; for the rest of this batch it is
      // unknown whether the partner has it, and what follows is not sent.
      for (size_t i = next + answered; i < payloads.size(); ++i) answers[i] = s;
      break;
    }
    next += count;
  }
  return answers;
}

size_t ClientCore::NextBatch(const std::vector<std::string_view>& payloads, size_t first) const {
  const size_t budget = std::min(kMaxBatchBytes, options_.max_frame_payload_bytes);
  size_t count = 0;
  size_t bytes = 0;
  while (first + count < payloads.size() && count < kMaxBatchEnvelopes &&
         bytes + payloads[first + count].size() <= budget) {
    bytes += payloads[first + count].size();
    ++count;
  }
  return std::max<size_t>(count, 1);
}

Status ClientCore::NothingAwaited() const {
  if (awaiting_.empty()) return Status::Ok();
  return Status::Internal(Where() + ": the answers of " + std::to_string(awaiting_.size()) +
                          " sent batch(es) are not collected yet");
}

PeerClient::Sent ClientCore::Send(const std::vector<std::string_view>& payloads) {
  PeerClient::Sent sent;
  sent.answers.assign(payloads.size(), Status::Internal(Where() + ": not sent"));
  if (interrupted_ || !CanPipeline()) {
    Status why = interrupted_ ? Status::Unavailable(Where() + ": interrupted")
                              : Status::Unavailable(Where() + ": not connected to a partner that takes batches");
    for (auto& a : sent.answers) a = why;
    return sent;
  }
  // Over our own frame limit: refused unsent. The rest in batches, as
  // DeliverBatch makes them, each batch's last frame a DELIVER.
  std::vector<std::string_view> going;
  for (size_t i = 0; i < payloads.size(); ++i) {
    if (payloads[i].size() > options_.max_frame_payload_bytes) {
      sent.answers[i] =
          Status::InvalidInput(Where() + ": payload of " + std::to_string(payloads[i].size()) +
                               " bytes exceeds the frame limit of " + std::to_string(options_.max_frame_payload_bytes));
      continue;
    }
    sent.sent.push_back(i);
    going.push_back(payloads[i]);
  }
  if (going.empty()) return sent;
  std::vector<FrameOut> frames(going.size());
  for (size_t first = 0; first < going.size();) {
    size_t count = NextBatch(going, first);
    for (size_t k = 0; k < count; ++k) {
      frames[first + k].type = k + 1 < count ? FrameType::kDeliverMore : FrameType::kDeliver;
      frames[first + k].payload = going[first + k];
    }
    first += count;
  }
  Status s = Run(options_.request_timeout, "sending", DoWrite(frames));
  if (!s.ok()) {
    // The connection is gone, and with it the answers awaited on it.
    CloseNow();
    lost_ = s;
    for (size_t i : sent.sent) sent.answers[i] = s;
    sent.sent.clear();
    return sent;
  }
  sent.serial = next_serial_++;
  awaiting_.push_back(Awaited{sent.serial, generation_});
  return sent;
}

void ClientCore::Collect(PeerClient::Sent& sent) {
  if (sent.sent.empty()) return;
  auto fail = [&sent](size_t from, const Status& why) {
    for (size_t k = from; k < sent.sent.size(); ++k) sent.answers[sent.sent[k]] = why;
  };
  if (awaiting_.empty() || awaiting_.front().serial != sent.serial) {
    fail(0, Status::Internal(Where() + ": answers collected out of the order they were sent in"));
    return;
  }
  Awaited awaited = awaiting_.front();
  awaiting_.pop_front();
  if (interrupted_ && connected_) {
    // Stopping: the answers are not read, so the connection cannot go on.
    CloseNow();
    lost_ = Status::Unavailable(Where() + ": interrupted");
  }
  if (!connected_ || awaited.generation != generation_) {
    fail(0, Status::Unavailable(Where() + ": the connection ended before the answers came" +
                                (lost_.ok() ? std::string() : " (" + lost_.message() + ")")));
    return;
  }
  size_t answered = 0;
  Status s = Run(options_.request_timeout, "waiting for the answers", DoCollect(sent, answered));
  if (!s.ok()) {
    CloseNow();
    lost_ = s;
    fail(answered, s);
  }
}

PeerClient::Ready ClientCore::AwaitAnswers(int wake_fd, milliseconds timeout) {
  using Ready = PeerClient::Ready;
  if (awaiting_.empty() || !stream_ || !connected_ || interrupted_) return Ready::kAnswers;
  // What OpenSSL holds already makes the socket look idle.
  if (TlsHoldsBytes(*stream_)) return Ready::kAnswers;
  pollfd fds[2]{};
  fds[0].fd = stream_->lowest_layer().native_handle();
  fds[0].events = POLLIN;
  fds[1].fd = wake_fd;  // poll skips a negative fd
  fds[1].events = POLLIN;
  int n = ::poll(fds, 2, static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, 3'600'000)));
  if (n < 0) return errno == EINTR ? Ready::kWoken : Ready::kAnswers;  // Collect finds out what is wrong
  if (n == 0) return Ready::kTimedOut;
  if (fds[0].revents != 0) return Ready::kAnswers;  // readable, or hung up: Collect tells which
  uint64_t count = 0;
  ssize_t got = ::read(wake_fd, &count, sizeof count);
  (void)got;  // an eventfd holds the count of writes, a pipe one byte each; either way it was written
  return Ready::kWoken;
}

asio::awaitable<Status> ClientCore::DoWrite(const std::vector<FrameOut>& frames) {
  ErrorCode ec;
  // A share cut off mid-frame (docs/fault-tests.md): a round of one goes here.
  if (!frames.empty() && FaultPointHit("peer_client.mid_frame")) {
    co_await WriteHalfFrameThenCrash(*stream_, frames.front().type, frames.front().payload, "peer_client.mid_frame");
  }
  co_await WriteFrames(*stream_, frames, ec);
  if (ec) co_return TransportFailure(ec, "sending " + std::to_string(frames.size()) + " requests");
  co_return Status::Ok();
}

asio::awaitable<Status> ClientCore::DoCollect(PeerClient::Sent& sent, size_t& answered) {
  for (size_t k = 0; k < sent.sent.size(); ++k) {
    Status read = co_await ReadAnswer(sent.answers[sent.sent[k]]);
    if (!read.ok()) co_return read;
    answered = k + 1;
  }
  co_return Status::Ok();
}

asio::awaitable<Status> ClientCore::DoDeliverBatch(const std::vector<std::string_view>& payloads, size_t first,
                                                   size_t count, std::vector<Result<std::string>>& answers,
                                                   size_t& answered) {
  ErrorCode ec;
  std::vector<FrameOut> frames(count);
  for (size_t i = 0; i < count; ++i) {
    frames[i].type = i + 1 < count ? FrameType::kDeliverMore : FrameType::kDeliver;
    frames[i].payload = payloads[first + i];
  }
  co_await WriteFrames(*stream_, frames, ec);
  if (ec) co_return TransportFailure(ec, "sending a batch of " + std::to_string(count));
  std::vector<FrameOut>().swap(frames);
  for (size_t i = 0; i < count; ++i) {
    Status read = co_await ReadAnswer(answers[first + i]);
    if (!read.ok()) co_return read;
    answered = i + 1;
  }
  co_return Status::Ok();
}

}  // namespace schakel::peer::peer_internal
