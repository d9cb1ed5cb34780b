#include "replication/cycle_machine.h"

#include <gtest/gtest.h>

namespace tiersync::replication {
namespace {

TEST(CycleMachineTest, AFreshReleaseGoesThroughEveryStepAndSwitches) {
  CycleMachine m;
  EXPECT_EQ(m.Next(), CycleStep::kRefreshMetadata);
  m.OnMetadata(Status::Ok(), /*catalog_local=*/false);
  EXPECT_EQ(m.Next(), CycleStep::kFetchCatalog);
  m.OnCatalog(Status::Ok(), "r2");
  EXPECT_EQ(m.Next(), CycleStep::kPlan);
  m.OnPlanned(Status::Ok(), "5-aaaa", "4-aaaa", /*window_open=*/true);
  EXPECT_EQ(m.Next(), CycleStep::kFetch);
  m.OnFetched(Status::Ok(), 0);
  ASSERT_EQ(m.Next(), CycleStep::kSwitch);
  EXPECT_EQ(m.switch_dir(), "5-aaaa");
  m.OnSwitched(Status::Ok());
  EXPECT_EQ(m.Next(), CycleStep::kDone);
  EXPECT_EQ(m.outcome(), CycleOutcome::kSwitched);
}

TEST(CycleMachineTest, ACatalogInTheLocalRepositoryIsNotFetched) {
  CycleMachine m;
  m.OnMetadata(Status::Ok(), /*catalog_local=*/true);
  EXPECT_EQ(m.Next(), CycleStep::kPlan);
}

TEST(CycleMachineTest, UnchangedMetadataIsUpToDateWithoutReadingFurther) {
  CycleMachine m;
  m.OnUnchangedMetadata();
  EXPECT_EQ(m.Next(), CycleStep::kDone);
  EXPECT_EQ(m.outcome(), CycleOutcome::kUpToDate);
  // Once the metadata step is past, the event is ignored like any other out of order.
  CycleMachine later;
  later.OnMetadata(Status::Ok(), /*catalog_local=*/true);
  later.OnUnchangedMetadata();
  EXPECT_EQ(later.Next(), CycleStep::kPlan);
}

TEST(CycleMachineTest, ACatalogNoSourceServesYetIsNotYetNeverFailed) {
  CycleMachine m;
  m.OnMetadata(Status::Ok(), false);
  m.OnCatalog(NotFoundError("404 from every source"), "r7");
  EXPECT_EQ(m.Next(), CycleStep::kDone);
  EXPECT_EQ(m.outcome(), CycleOutcome::kNotYet);
  EXPECT_TRUE(m.status().ok());
  EXPECT_NE(m.pending().find("r7"), std::string::npos);
}

TEST(CycleMachineTest, AFailureAtAnyStepEndsTheCycleWithIt) {
  CycleMachine a;
  a.OnMetadata(UnavailableError("all down"), false);
  EXPECT_EQ(a.outcome(), CycleOutcome::kFailed);
  CycleMachine b;
  b.OnMetadata(Status::Ok(), false);
  b.OnCatalog(VerificationError("manifest differs"), "r2");
  EXPECT_EQ(b.outcome(), CycleOutcome::kFailed);
  EXPECT_NE(b.status().message().find("catalog release r2"), std::string::npos);
  CycleMachine c;
  c.OnMetadata(Status::Ok(), true);
  c.OnPlanned(Status::Ok(), "5-a", "4-a", true);
  c.OnFetched(ResourceExhaustedError("quota"), 0);
  EXPECT_EQ(c.outcome(), CycleOutcome::kFailed);
  EXPECT_EQ(c.status().code(), StatusCode::kResourceExhausted);
}

TEST(CycleMachineTest, ThePlanServedAlreadyIsUpToDate) {
  CycleMachine m;
  m.OnMetadata(Status::Ok(), true);
  m.OnPlanned(Status::Ok(), "5-aaaa", "5-aaaa", false);
  EXPECT_EQ(m.outcome(), CycleOutcome::kUpToDate);
}

TEST(CycleMachineTest, APartialReleaseWaitsForAWindowThenCompletes) {
  CycleMachine closed;
  closed.OnMetadata(Status::Ok(), true);
  closed.OnPlanned(Status::Ok(), "5-aaaa", "5-aaaa-d3", /*window_open=*/false);
  EXPECT_EQ(closed.outcome(), CycleOutcome::kWaitingWindow);

  CycleMachine open;
  open.OnMetadata(Status::Ok(), true);
  open.OnPlanned(Status::Ok(), "5-aaaa", "5-aaaa-d3", /*window_open=*/true);
  EXPECT_EQ(open.Next(), CycleStep::kFetch);
  open.OnFetched(Status::Ok(), 0);
  ASSERT_EQ(open.Next(), CycleStep::kSwitch);
  EXPECT_EQ(open.switch_dir(), "5-aaaa");
}

TEST(CycleMachineTest, DeferredFilesSwitchToADirectoryOfTheirOwnOnce) {
  CycleMachine first;
  first.OnMetadata(Status::Ok(), true);
  first.OnPlanned(Status::Ok(), "6-bbbb", "5-aaaa", false);
  ASSERT_EQ(first.Next(), CycleStep::kFetch) << "priority content is fetched outside windows";
  first.OnFetched(Status::Ok(), 4);
  ASSERT_EQ(first.Next(), CycleStep::kSwitch);
  EXPECT_EQ(first.switch_dir(), "6-bbbb-d4");

  // A window opened, and closed again before anything arrived: the same partial directory.
  CycleMachine again;
  again.OnMetadata(Status::Ok(), true);
  again.OnPlanned(Status::Ok(), "6-bbbb", "6-bbbb-d4", true);
  again.OnFetched(Status::Ok(), 4);
  EXPECT_EQ(again.Next(), CycleStep::kDone);
  EXPECT_EQ(again.outcome(), CycleOutcome::kWaitingWindow);
}

TEST(CycleMachineTest, PartialNamesAreRecognisedExactly) {
  EXPECT_TRUE(IsPartialOf("5-aaaa-d3", "5-aaaa"));
  EXPECT_FALSE(IsPartialOf("5-aaaa", "5-aaaa"));
  EXPECT_FALSE(IsPartialOf("5-aaaa-d", "5-aaaa"));
  EXPECT_FALSE(IsPartialOf("15-aaaa-d3", "5-aaaa"));
  EXPECT_EQ(PartialDirName("5-aaaa", 0), "5-aaaa");
}

TEST(CycleMachineTest, EventsOutOfTurnAreIgnored) {
  CycleMachine m;
  m.OnFetched(Status::Ok(), 0);
  m.OnSwitched(Status::Ok());
  EXPECT_EQ(m.Next(), CycleStep::kRefreshMetadata);
}

}  // namespace
}  // namespace tiersync::replication
