// The rules of store/accounts.h: the bootstrap coordinator, content roles
// waiting for a second person, the requester and the account itself not
// confirming, the last coordinator kept, removal keeping the row, and the
// auth_epoch that ends console sessions.
#include "schakel/store/accounts.h"

#include <gtest/gtest.h>

#include "schakel/store/database.h"
#include "test_support.h"

namespace schakel::store {
namespace {

using schakel::testing::TempDir;

constexpr const char* kNow = "2026-11-30T10:00:00Z";
constexpr const char* kLater = "2027-02-28T10:00:00Z";

class AccountsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(dir_ / "node.db", crypto::SecureBuffer::Random(32), OpenMode::kCreate);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(db).value();
  }
  User Make(const std::string& name, Role role, const std::string& by = "os:root") {
    auto made = CreateAccount(*db_, name, role, by, kNow, kLater);
    EXPECT_TRUE(made.ok()) << made.status().message();
    return made.ok() ? made->user : User{};
  }
  User Get(const std::string& name) { return RequireUser(*db_, name).value(); }
  TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(AccountsStoreTest, FirstCoordinatorIsTheBootstrapAndLaterContentRolesWait) {
  User first = Make("zorgco", Role::kCoordinator);
  EXPECT_TRUE(first.Usable());
  EXPECT_EQ(first.confirmed_by, "bootstrap");
  User second = Make("zorgco2", Role::kCoordinator);
  EXPECT_FALSE(second.Usable());
  EXPECT_EQ(second.pending_role, Role::kCoordinator);
  User staff = Make("mentor", Role::kStaff);
  EXPECT_FALSE(staff.Usable());
  User admin = Make("beheer", Role::kAdmin);
  EXPECT_TRUE(admin.Usable());
  EXPECT_FALSE(admin.pending_role.has_value());
  auto pending = ListPendingGrants(*db_);
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->size(), 2u);

  auto confirmed = ConfirmGrant(*db_, "mentor", first);
  ASSERT_TRUE(confirmed.ok()) << confirmed.status().message();
  EXPECT_EQ(confirmed->action, "user.grant_confirmed");
  EXPECT_TRUE(Get("mentor").Usable());
  EXPECT_EQ(Get("mentor").confirmed_by, first.user_id);
  // An admin, or a pending account, confirms nothing.
  EXPECT_EQ(ConfirmGrant(*db_, "zorgco2", admin).status().code(), Code::kDenied);
  EXPECT_EQ(ConfirmGrant(*db_, "zorgco2", Get("zorgco2")).status().code(), Code::kDenied);
}

TEST_F(AccountsStoreTest, TheRequesterAndTheAccountItselfCannotConfirm) {
  User a = Make("zorgco", Role::kCoordinator);
  // A role asked for by coordinator a (as if a were the requester).
  User b = Make("beheer", Role::kAuditor);
  ASSERT_TRUE(SetRole(*db_, "beheer", Role::kCoordinator, a.user_id).ok());
  auto own = ConfirmGrant(*db_, "beheer", a);
  EXPECT_EQ(own.status().code(), Code::kDenied);
  EXPECT_NE(own.status().message().find("asked for this role"), std::string::npos);
  EXPECT_EQ(Get("beheer").role, Role::kAuditor);  // unchanged meanwhile
  // Another coordinator may; nobody confirms a grant for themselves.
  Make("zorgco2", Role::kCoordinator);
  ASSERT_TRUE(ConfirmGrant(*db_, "zorgco2", a).ok());
  ASSERT_TRUE(ConfirmGrant(*db_, "beheer", Get("zorgco2")).ok());
  EXPECT_EQ(Get("beheer").role, Role::kCoordinator);
  ASSERT_TRUE(SetRole(*db_, "zorgco", Role::kStaff, "os:root").ok());
  EXPECT_EQ(ConfirmGrant(*db_, "zorgco", a).status().code(), Code::kDenied);
  (void)b;
}

TEST_F(AccountsStoreTest, DisableRemoveRotateRaiseTheEpochAndRemovalKeepsTheRow) {
  User c = Make("zorgco", Role::kCoordinator);
  User m = Make("beheer", Role::kAdmin);
  int64_t epoch = Get("beheer").auth_epoch;
  ASSERT_TRUE(DisableAccount(*db_, "beheer", kNow).ok());
  EXPECT_FALSE(Get("beheer").Usable());
  EXPECT_GT(Get("beheer").auth_epoch, epoch);
  EXPECT_EQ(DisableAccount(*db_, "beheer", kNow).status().code(), Code::kInvalidInput);
  ASSERT_TRUE(EnableAccount(*db_, "beheer").ok());
  EXPECT_TRUE(Get("beheer").Usable());
  NewToken t = MakeToken();
  ASSERT_TRUE(RotateToken(*db_, "beheer", t, kLater).ok());
  auto by_token = FindUserByTokenHash(*db_, t.hash);
  ASSERT_TRUE(by_token.ok() && by_token->has_value());
  // Role changes do not end sessions (the console takes the new role).
  epoch = Get("beheer").auth_epoch;
  ASSERT_TRUE(SetRole(*db_, "beheer", Role::kAuditor, "os:root").ok());
  EXPECT_EQ(Get("beheer").auth_epoch, epoch);
  ASSERT_TRUE(RemoveAccount(*db_, "beheer", kNow).ok());
  User gone = Get(m.user_id);  // by id too
  EXPECT_TRUE(gone.removed_at.has_value());
  EXPECT_FALSE(FindUserByTokenHash(*db_, t.hash).value().has_value());
  EXPECT_EQ(EnableAccount(*db_, "beheer").status().code(), Code::kInvalidInput);
  // The last coordinator stays: not removed, not given another role.
  EXPECT_EQ(RemoveAccount(*db_, "zorgco", kNow).status().code(), Code::kDenied);
  EXPECT_EQ(SetRole(*db_, "zorgco", Role::kAdmin, "os:root").status().code(), Code::kDenied);
  // But disabled (undone by enable); the bootstrap stays closed meanwhile.
  ASSERT_TRUE(DisableAccount(*db_, "zorgco", kNow).ok());
  EXPECT_FALSE(BootstrapCoordinatorOpen(*db_).value());
  EXPECT_FALSE(Make("zorgco2", Role::kCoordinator).Usable());
  (void)c;
}

TEST_F(AccountsStoreTest, TokensExpiringBeforeListsOnlyUsableAccounts) {
  Make("zorgco", Role::kCoordinator);
  Make("beheer", Role::kAdmin);
  Make("mentor", Role::kStaff);  // pending: not listed
  auto soon = TokensExpiringBefore(*db_, "2027-03-01T00:00:00Z");
  ASSERT_TRUE(soon.ok());
  EXPECT_EQ(soon->size(), 2u);
  EXPECT_TRUE(TokensExpiringBefore(*db_, "2027-02-01T00:00:00Z").value().empty());
  EXPECT_EQ(CreateAccount(*db_, "u-0123456789ab", Role::kAdmin, "os:root", kNow, kLater).status().code(),
            Code::kInvalidInput);
}

}  // namespace
}  // namespace schakel::store
