"""The notification fan-out: four independent consumer groups, side effects through outside
providers, a timed campaign that stops on unsubscribe, and a consumer that joins later."""

from __future__ import annotations

import pytest

from choreo_lab import Crash, Duplicate, Kill, Restart, workflow_status
from choreo_lab.chaos import FaultSpace, explore
from choreo_lab.examples.catalog import workflow
from choreo_lab.examples.notifications import (
    CONSUMERS,
    DAY,
    make_sms_service,
    notification_oracle,
    notification_services,
    notification_system,
    random_signups,
    register_user,
    sent,
    sign_up,
    unsubscribe,
    user_ids,
    where_is_user,
)


def signed_up(*users: str, **options):
    sim = notification_system(7, **options)
    for user in users:
        register_user(sim, user)
    return sim


def campaign_emails(sim, user: str) -> list[str]:
    return [entry["what"] for entry in sent(sim, "email-provider", user) if entry["what"] != "welcome"]


# -- fan-out --------------------------------------------------------------------------------------
def test_every_consumer_group_gets_every_registration_and_the_oracle_converges():
    sim = signed_up("u-1", "u-2")
    sim.run_until_idle()
    assert [len(sent(sim, "email-provider", u, "welcome")) for u in ("u-1", "u-2")] == [1, 1]
    assert sim.state("analytics")["signups"] == 2
    assert set(sim.state("crm")["contacts"]) == {"u-1", "u-2"}
    assert campaign_emails(sim, "u-1") == ["getting-started", "tip", "survey"]
    assert notification_oracle().check(sim).converged
    assert workflow_status(sim, "u-1") == "completed"


def test_a_crm_outage_dead_letters_only_the_crms_messages_and_the_others_are_untouched():
    sim = signed_up("u-1", "u-2", "u-3", services=notification_services(crm_outage=(0, DAY)))
    sim.run_until_idle()
    assert {letter.group for letter in sim.dead_letters} == {"crm"} and len(sim.dead_letters) == 3
    assert sim.state("analytics")["signups"] == 3
    assert all(campaign_emails(sim, u) == ["getting-started", "tip", "survey"]
               for u in ("u-1", "u-2", "u-3"))
    report = notification_oracle().check(sim)
    assert {v.invariant for v in report.violations} == {"nothing is lost"}
    assert "re-drive it" in report.violations[0].explanation
    sim.redrive()
    sim.run_until_idle()
    assert notification_oracle().check(sim).converged and len(sim.state("crm")["contacts"]) == 3


def test_a_killed_crm_lets_its_backlog_grow_while_the_others_keep_up():
    sim = signed_up(faults=[Kill(service="crm", at=0), Restart(service="crm", at=DAY)])
    for n in range(1, 5):
        register_user(sim, f"u-{n}")
    sim.run_for(1000)
    assert sim.lag("crm") == 4 and sum(sim.backlog("crm").values()) == 4
    assert [sim.lag(name) for name in ("email", "analytics")] == [0, 0]
    sim.run_until_idle()
    assert sim.lag("crm") == 0 and len(sim.state("crm")["contacts"]) == 4


# -- side effects that cannot be rolled back ------------------------------------------------------
LOST_ACKS = [Duplicate(service="email", event_type="UserRegistered", times=1),
             Duplicate(service="analytics", event_type="UserRegistered", times=1)]


def test_a_lost_ack_sends_a_second_welcome_email_and_double_counts_without_keys_and_inbox():
    naive = notification_services(idempotency_keys=False, counted_once=False)
    sim = signed_up("u-1", services=naive, faults=LOST_ACKS)
    sim.run_until_idle()
    assert len(sent(sim, "email-provider", "u-1", "welcome")) == 2
    assert sim.state("analytics")["signups"] == 2
    assert {v.invariant for v in notification_oracle().check(sim).violations} == {
        "one welcome email per user", "analytics counts each user once"}


def test_idempotency_keys_and_the_inbox_absorb_the_same_lost_acks():
    sim = signed_up("u-1", faults=LOST_ACKS)
    sim.run_until_idle()
    assert len(sent(sim, "email-provider", "u-1", "welcome")) == 1
    assert sim.state("analytics")["signups"] == 1
    assert notification_oracle().check(sim).converged


def test_the_provider_honours_a_key_even_when_its_own_answer_was_lost():
    faults = [Duplicate(service="email-provider", event_type="SendEmail", times=3)]
    keyed = signed_up("u-1", faults=faults)
    naive = signed_up("u-1", faults=faults, services=notification_services(idempotency_keys=False))
    keyed.run_until_idle()
    naive.run_until_idle()
    assert len(sent(keyed, "email-provider", "u-1", "welcome")) == 1
    assert len(sent(naive, "email-provider", "u-1", "welcome")) == 4  # every repeat, an email


def test_what_the_provider_sent_survives_a_crash_of_the_service_that_asked():
    sim = signed_up("u-1", faults=[Crash(service="campaign", event_type="CampaignStepDue",
                                         point="after_commit_before_ack", times=1)])
    sim.run_until_idle()
    assert campaign_emails(sim, "u-1") == ["getting-started", "tip", "survey"]
    assert notification_oracle().check(sim).converged


# -- time: the campaign -----------------------------------------------------------------------------
def test_the_campaign_sends_day_0_3_and_7_at_their_virtual_times():
    sim = signed_up("u-1")
    sim.run_until_idle()
    times = [entry["requested_at"] // DAY for entry in sent(sim, "email-provider", "u-1")
             if entry["what"] != "welcome"]
    assert times == [0, 3, 7]


@pytest.mark.parametrize(("day", "expected"), [(1, ["getting-started"]),
                                                (4, ["getting-started", "tip"])])
def test_an_unsubscribe_cancels_what_is_pending(day, expected):
    sim = signed_up("u-1")
    sim.run_for(day * DAY)
    unsubscribe(sim, "u-1")
    sim.run_until_idle()
    assert campaign_emails(sim, "u-1") == expected
    assert sim.trace.where(kind="timer-cancel", correlation_id="u-1")
    assert not sim.timers and notification_oracle().check(sim).converged


def test_a_step_that_fired_while_the_campaign_was_down_is_skipped_after_the_unsubscribe():
    sim = signed_up("u-1", faults=[Kill(service="campaign", at=2 * DAY),
                                   Restart(service="campaign", at=5 * DAY)])
    sim.run_for(2 * DAY + DAY // 2)
    unsubscribe(sim, "u-1")          # waits in the backlog: the campaign is down
    sim.run_for(DAY)                 # the tip's timer fires at day 3 (the broker keeps it)
    assert sim.trace.where(kind="timer-fire", correlation_id="u-1")
    sim.run_until_idle()             # restart: the unsubscribe first, then the tip that fired
    assert campaign_emails(sim, "u-1") == ["getting-started"]
    assert notification_oracle().check(sim).converged


# -- the late consumer ------------------------------------------------------------------------------
@pytest.mark.parametrize(("start", "old_texted", "members"), [
    ("now", 0, 1), ("beginning", 3, 4), (2 * DAY, 1, 2)])
def test_where_a_late_consumer_starts_decides_whom_it_texts_and_whom_it_knows(start, old_texted,
                                                                               members):
    sim = notification_system(7)
    for n, day in enumerate((0, 1, 2), start=1):
        sim.run_for(day * DAY - sim.now)
        register_user(sim, f"u-{n}")
    sim.run_for(30 * DAY)
    sim.add_service(make_sms_service(), start=start)
    register_user(sim, "u-4")
    sim.run_until_idle()
    texted = {entry["user_id"] for entry in sent(sim, "sms-gateway")}
    assert len(texted - {"u-4"}) == old_texted and "u-4" in texted
    assert len(sim.state("sms")["members"]) == members


# -- the oracle is not vacuous --------------------------------------------------------------------
def test_each_invariant_catches_its_own_mutant():
    from choreo_lab import Service
    from choreo_lab.examples.notifications import UserRegistered

    never_stops = notification_services()
    campaign = never_stops[3]
    del campaign.handlers["UserUnsubscribed"]
    sim = signed_up("u-1", services=never_stops)
    unsubscribe(sim, "u-1")
    sim.run_until_idle()
    assert {v.invariant for v in notification_oracle().check(sim).violations} >= {
        "no campaign email after unsubscribe"}

    silent = Service("email", {})

    @silent.handles(UserRegistered)
    def forget(event, ctx):
        return None

    sim = signed_up("u-1", services=notification_services(email=silent))
    sim.run_until_idle()
    assert [v.kind for v in notification_oracle().check(sim).violations] == ["convergence"]

    late = notification_services()
    del late[3].handlers["UserUnsubscribed"]  # the campaign never hears of the unsubscribe
    sim = signed_up("u-1", services=late)
    sim.run_for(4 * DAY)
    unsubscribe(sim, "u-1")
    sim.run_until_idle()
    found = notification_oracle().check(sim).violations
    assert [v.invariant for v in found] == ["no campaign email after unsubscribe"]
    assert "'survey' email" in found[0].explanation


def test_the_chaos_explorer_finds_the_naive_fan_out_broken_and_the_real_one_sound():
    users = random_signups(3, seed=2)
    space = FaultSpace(kinds=("duplicate", "crash", "drop", "delay", "kill"), max_faults=2)

    def system(naive: bool):
        services = (lambda: notification_services(idempotency_keys=False, counted_once=False)
                    ) if naive else notification_services
        return lambda seed, faults: notification_system(seed, services=services(), faults=faults)

    sound = explore(system(False), lambda sim: sign_up(sim, users), notification_oracle(),
                    schedules=40, seed=3, space=space)
    assert sound.ok, str(sound)
    broken = explore(system(True), lambda sim: sign_up(sim, users), notification_oracle(),
                     schedules=40, seed=3, space=space)
    assert not broken.ok and len(broken.counterexample.plan) == 1


def test_the_catalogue_runs_the_fan_out_and_explains_one_user():
    entry = workflow("notifications")
    sim = entry.system(seed=4)
    ids = entry.start(sim, 4, 4)
    sim.run_until_idle()
    assert ids == user_ids(sim) == ["u-1", "u-2", "u-3", "u-4"]
    assert entry.oracle().check(sim).converged
    assert entry.explain(sim, "u-1").startswith("user u-1: campaign completed")
    assert set(CONSUMERS) <= set(sim.services)
    assert "crm        synced" in where_is_user(sim, "u-2")
