"""Hidden checks of exercise 5 (the fan-out): other situations, the same lessons."""

from __future__ import annotations

from choreo_lab.faults import Crash, Drop
from choreo_lab.grading.ex05_notifications import (
    CHAOS_HINT,
    KEY_HINT,
    OLD_USERS,
    expect_members,
    expect_one_reminder,
    explore_both,
    loyalty_run,
    reminder_run,
)
from choreo_lab.grading.learner import Learner
from choreo_lab.grading.tasks import Check


def texts_new_members_once_across_crashes_and_losses(learner: Learner) -> None:
    run = loyalty_run(learner, [Crash(service="loyalty", event_type="UserRegistered",
                                      correlation_id=user_id, point="after_commit_before_ack")
                                for user_id in ("u-4", "u-6")]
                      + [Drop(service="sms-gateway", event_type="SendSms", times=1)],
                      new_users=("u-4", "u-5", "u-6"))
    expect_members(run, (*OLD_USERS, "u-4", "u-5", "u-6"))
    for user_id in ("u-4", "u-5", "u-6"):
        if run.texts(user_id) != 1:
            run.fail(f"{user_id} got {run.texts(user_id)} welcome texts after crashes of the "
                     "loyalty service and a lost request.", KEY_HINT, user_id)


def reminds_each_user_on_their_own_schedule(learner: Learner) -> None:
    run = reminder_run(learner, {"u-2": 36 * 3_600_000}, users=("u-1", "u-2", "u-3"))
    for user_id in ("u-1", "u-3"):
        expect_one_reminder(run, user_id)
    if run.reminders("u-2"):
        run.fail("Of three users, u-2 confirmed after a day and a half, and still got a reminder.",
                 "keep one timer per user (named after the user) and cancel only theirs.", "u-2")


def survives_more_chaos(learner: Learner) -> None:
    explore_both(learner, schedules=80, seed=2, hint=CHAOS_HINT)


HIDDEN = {
    "loyalty": (Check("texts new members once across crashes and a lost request", 1,
                      texts_new_members_once_across_crashes_and_losses, hidden=True),),
    "reminder": (Check("reminds each of several users on their own schedule", 1,
                       reminds_each_user_on_their_own_schedule, hidden=True),),
    "fanout_chaos": (Check("keeps every invariant over 80 more seeded fault schedules", 1,
                           survives_more_chaos, hidden=True),),
}
