#include "schakel/base/status.h"

namespace schakel {

int Status::ExitCode() const {
  switch (code_) {
    case Code::kOk:
      return 0;
    case Code::kInvalidInput:
    case Code::kNotFound:
    case Code::kAlreadyExists:
      return 2;
    case Code::kDenied:
    case Code::kUnauthenticated:
      return 3;
    case Code::kIoError:
    case Code::kUnavailable:
    case Code::kCorruption:
    case Code::kInternal:
    case Code::kResourceExhausted:
      return 1;
  }
  return 1;
}

std::string_view Status::CodeName() const {
  switch (code_) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidInput:
      return "invalid_input";
    case Code::kNotFound:
      return "not_found";
    case Code::kAlreadyExists:
      return "already_exists";
    case Code::kDenied:
      return "denied";
    case Code::kUnauthenticated:
      return "unauthenticated";
    case Code::kIoError:
      return "io_error";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kCorruption:
      return "corruption";
    case Code::kInternal:
      return "internal";
    case Code::kResourceExhausted:
      return "resource_exhausted";
  }
  return "internal";
}

Status Status::FromCodeName(std::string_view name, std::string msg) {
  for (Code c : {Code::kInvalidInput, Code::kNotFound, Code::kAlreadyExists, Code::kDenied, Code::kUnauthenticated,
                 Code::kIoError, Code::kUnavailable, Code::kCorruption, Code::kInternal, Code::kResourceExhausted}) {
    Status s(c, "");
    if (s.CodeName() == name) return Status(c, std::move(msg));
  }
  return Status(Code::kInternal, std::move(msg));
}

}  // namespace schakel
