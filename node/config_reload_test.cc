#include "node/config_reload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tiersync::node {
namespace {

using ::testing::ElementsAre;

NodeConfig Running() {
  NodeConfig c;
  c.name = "杭州市西湖区";
  c.tier = Tier::kCounty;
  c.region = "330106";
  c.sources = {"http://city:8080"};
  c.national = "http://hub:8080";
  c.subscription = "board = 专题教育\n";
  return c;
}

TEST(PlanReloadTest, NothingChangedChangesNothing) {
  ReloadPlan p = PlanReload(Running(), Running());
  EXPECT_TRUE(p.applied.empty());
  EXPECT_TRUE(p.need_restart.empty());
  EXPECT_EQ(p.next.subscription, Running().subscription);
}

TEST(PlanReloadTest, TheSyncLoopsSettingsApplyAtOnce) {
  NodeConfig loaded = Running();
  loaded.subscription = "all\n";
  loaded.poll_seconds = 60;
  loaded.quota_bytes = 1 << 30;
  loaded.max_bytes_per_second = 1 << 20;
  loaded.parallel = 2;
  ReloadPlan p = PlanReload(Running(), loaded);
  EXPECT_THAT(p.applied, ::testing::ElementsAre("subscription", "poll_seconds", "quota_bytes",
                                                "max_bytes_per_second", "parallel"));
  EXPECT_TRUE(p.need_restart.empty());
  EXPECT_EQ(p.next.subscription, "all\n");
  EXPECT_EQ(p.next.poll_seconds, 60);
  EXPECT_EQ(p.next.quota_bytes, 1u << 30);
  EXPECT_EQ(p.next.max_bytes_per_second, 1u << 20);
  EXPECT_EQ(p.next.parallel, 2);
  NodeConfig applied = Running();
  ApplyLive(p, &applied);
  EXPECT_EQ(applied.subscription, "all\n");
  EXPECT_EQ(applied.poll_seconds, 60);
  EXPECT_EQ(applied.quota_bytes, 1u << 30);
  EXPECT_EQ(applied.max_bytes_per_second, 1u << 20);
  EXPECT_EQ(applied.parallel, 2);
}

TEST(PlanReloadTest, WhatComponentsHoldWaitsForARestartAndKeepsItsRunningValue) {
  NodeConfig loaded = Running();
  loaded.sources = {"http://other-city:8080"};
  loaded.listen_port = 9999;
  loaded.tls_cert = "/etc/tiersync/new.pem";
  loaded.name = "renamed";
  loaded.subscription = "all\n";
  ReloadPlan p = PlanReload(Running(), loaded);
  EXPECT_THAT(p.applied, ElementsAre("subscription"));
  EXPECT_THAT(p.need_restart, ElementsAre("name", "listen", "sources", "tls_cert"));
  EXPECT_EQ(p.next.sources, Running().sources);
  EXPECT_EQ(p.next.listen_port, Running().listen_port);
  EXPECT_EQ(p.next.name, Running().name);
  NodeConfig applied = Running();
  ApplyLive(p, &applied);
  EXPECT_EQ(applied.sources, Running().sources);
  EXPECT_EQ(applied.listen_port, Running().listen_port);
  EXPECT_EQ(applied.subscription, "all\n");
}

}  // namespace
}  // namespace tiersync::node
