// Status and Result<T>: how errors cross module boundaries in Schakel.
//
// A Status is either OK or carries a Code from a closed set and a message a
// user can act on ("partner card: signature does not verify"). Messages never
// contain secrets or case contents: callers build them from field names,
// file positions and identifiers only.
//
// Codes map one-to-one onto the process exit codes of CONTRACT.md through
// ExitCode(): bad input 2, refused by policy or role 3, anything else that
// failed at run time 1. Codes are never renumbered.
//
// Thread-safety: values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace schakel {

enum class Code : std::uint8_t {
  kOk = 0,
  kInvalidInput = 1,       // malformed input, bad usage, unknown name (exit 2)
  kNotFound = 2,           // a named object does not exist (exit 2)
  kAlreadyExists = 3,      // a unique object exists already (exit 2)
  kDenied = 4,             // refused by policy or by role (exit 3)
  kUnauthenticated = 5,    // no or wrong credentials (exit 3)
  kIoError = 6,            // disk, file system (exit 1)
  kUnavailable = 7,        // peer or daemon unreachable, store locked (exit 1)
  kCorruption = 8,         // data fails integrity checks, wrong key (exit 1)
  kInternal = 9,           // a bug or an unexpected library failure (exit 1)
  kResourceExhausted = 10  // a limit was reached: disk full, too many (exit 1)
};

class [[nodiscard]] Status {
 public:
  Status() = default;

  static Status Ok() { return Status(); }
  static Status InvalidInput(std::string msg) { return Status(Code::kInvalidInput, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status AlreadyExists(std::string msg) { return Status(Code::kAlreadyExists, std::move(msg)); }
  static Status Denied(std::string msg) { return Status(Code::kDenied, std::move(msg)); }
  static Status Unauthenticated(std::string msg) { return Status(Code::kUnauthenticated, std::move(msg)); }
  static Status IoError(std::string msg) { return Status(Code::kIoError, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }
  static Status ResourceExhausted(std::string msg) { return Status(Code::kResourceExhausted, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // A copy with "context: " put in front of the message, so that an error
  // can gain the file, field or object it concerns on its way up.
  Status WithContext(std::string_view context) const {
    if (ok()) return *this;
    return Status(code_, std::string(context) + ": " + message_);
  }

  // The process exit code of CONTRACT.md for this status.
  int ExitCode() const;
  // A short stable name for the code, for JSON errors: "invalid_input", ...
  std::string_view CodeName() const;
  // The Status a CodeName() stands for; an unknown name gives kInternal.
  static Status FromCodeName(std::string_view name, std::string msg);

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// Result<T> holds a T or a non-OK Status. Accessing value() of an error is a
// programming error (checked by assert in debug builds).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace schakel

// Propagate a non-OK Status from an expression that yields a Status.
#define SCHAKEL_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::schakel::Status schakel_status_ = (expr);        \
    if (!schakel_status_.ok()) return schakel_status_; \
  } while (0)

#define SCHAKEL_CONCAT_INNER_(a, b) a##b
#define SCHAKEL_CONCAT_(a, b) SCHAKEL_CONCAT_INNER_(a, b)
// SCHAKEL_ASSIGN_OR_RETURN(auto x, Foo()); declares x from a Result or returns its Status.
// `decl` is a declaration (`auto x`), which parentheses would break, so
// clang-tidy's bugprone-macro-parentheses is a false positive here.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define SCHAKEL_ASSIGN_OR_RETURN(decl, expr)                                                                        \
  auto SCHAKEL_CONCAT_(schakel_result_, __LINE__) = (expr);                                                         \
  if (!SCHAKEL_CONCAT_(schakel_result_, __LINE__).ok()) return SCHAKEL_CONCAT_(schakel_result_, __LINE__).status(); \
  decl = std::move(SCHAKEL_CONCAT_(schakel_result_, __LINE__)).value()
// NOLINTEND(bugprone-macro-parentheses)
