#include "common/status.h"

#include <memory>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace gregor {
namespace {

absl::Status Succeed(int* calls) {
  ++*calls;
  return absl::OkStatus();
}

absl::Status Fail(int* calls) {
  ++*calls;
  return absl::DataLossError("bad crc");
}

absl::StatusOr<int> Number(int* calls, bool ok, int value) {
  ++*calls;
  if (!ok) return absl::NotFoundError("no number");
  return value;
}

absl::StatusOr<std::unique_ptr<std::string>> Owned(bool ok) {
  if (!ok) return absl::UnavailableError("not now");
  return std::make_unique<std::string>("owned");
}

// --- RETURN_IF_ERROR ---

absl::Status TwoSteps(bool first_ok, int* calls, int* reached) {
  RETURN_IF_ERROR(first_ok ? Succeed(calls) : Fail(calls));
  ++*reached;
  RETURN_IF_ERROR(Succeed(calls));
  ++*reached;
  return absl::OkStatus();
}

TEST(StatusTest, ReturnIfErrorContinuesOnOk) {
  int calls = 0;
  int reached = 0;
  EXPECT_TRUE(TwoSteps(/*first_ok=*/true, &calls, &reached).ok());
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(reached, 2);
}

TEST(StatusTest, ReturnIfErrorReturnsTheErrorUnchanged) {
  int calls = 0;
  int reached = 0;
  const absl::Status status = TwoSteps(/*first_ok=*/false, &calls, &reached);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(status.message(), "bad crc");
  EXPECT_EQ(calls, 1);  // evaluated once, and nothing after it ran
  EXPECT_EQ(reached, 0);
}

absl::StatusOr<int> ReturnIfErrorInStatusOr(bool ok) {
  int calls = 0;
  RETURN_IF_ERROR(ok ? Succeed(&calls) : Fail(&calls));
  return 7;
}

TEST(StatusTest, ReturnIfErrorInFunctionReturningStatusOr) {
  EXPECT_EQ(ReturnIfErrorInStatusOr(true).value(), 7);
  EXPECT_EQ(ReturnIfErrorInStatusOr(false).status().code(), absl::StatusCode::kDataLoss);
}

// The do/while wrapper makes the macro a single statement.
absl::Status InIfElse(bool condition) {
  int calls = 0;
  if (condition)
    RETURN_IF_ERROR(Fail(&calls));
  else
    RETURN_IF_ERROR(Succeed(&calls));
  return absl::OkStatus();
}

TEST(StatusTest, ReturnIfErrorIsASingleStatement) {
  EXPECT_FALSE(InIfElse(true).ok());
  EXPECT_TRUE(InIfElse(false).ok());
}

// --- ASSIGN_OR_RETURN ---

absl::StatusOr<int> Sum(bool first_ok, bool second_ok, int* calls) {
  ASSIGN_OR_RETURN(const int a, Number(calls, first_ok, 40));
  ASSIGN_OR_RETURN(int b, Number(calls, second_ok, 2));  // a second use in the same scope
  return a + b;
}

TEST(StatusTest, AssignOrReturnAssignsOnOk) {
  int calls = 0;
  absl::StatusOr<int> sum = Sum(true, true, &calls);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(*sum, 42);
  EXPECT_EQ(calls, 2);
}

TEST(StatusTest, AssignOrReturnReturnsTheError) {
  int calls = 0;
  absl::StatusOr<int> first = Sum(false, true, &calls);
  EXPECT_EQ(first.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(first.status().message(), "no number");
  EXPECT_EQ(calls, 1);

  calls = 0;
  EXPECT_EQ(Sum(true, false, &calls).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(calls, 2);
}

absl::Status AssignToExisting(int* out) {
  int calls = 0;
  int value = 0;
  ASSIGN_OR_RETURN(value, Number(&calls, true, 5));
  *out = value;
  return absl::OkStatus();
}

TEST(StatusTest, AssignOrReturnToExistingVariable) {
  int out = 0;
  ASSERT_TRUE(AssignToExisting(&out).ok());
  EXPECT_EQ(out, 5);
}

absl::StatusOr<std::string> TakeOwned(bool ok) {
  ASSIGN_OR_RETURN(std::unique_ptr<std::string> owned, Owned(ok));
  return *owned + "!";
}

TEST(StatusTest, AssignOrReturnMovesMoveOnlyValues) {
  EXPECT_EQ(TakeOwned(true).value(), "owned!");
  EXPECT_EQ(TakeOwned(false).status().code(), absl::StatusCode::kUnavailable);
}

// In a function returning a plain Status, the error converts to it.
absl::Status AssignInStatusFunction(bool ok, int* out) {
  int calls = 0;
  ASSIGN_OR_RETURN(*out, Number(&calls, ok, 9));
  return absl::OkStatus();
}

TEST(StatusTest, AssignOrReturnInFunctionReturningStatus) {
  int out = 0;
  EXPECT_TRUE(AssignInStatusFunction(true, &out).ok());
  EXPECT_EQ(out, 9);
  EXPECT_EQ(AssignInStatusFunction(false, &out).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace gregor
