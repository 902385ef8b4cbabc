"""What happened to one user, pieced together from every service and provider (none holds it all)."""

from __future__ import annotations

from ... import vocabulary as words
from ...simulation import Simulation
from ...story import workflow_status
from .providers import sent


def where_is_user(sim: Simulation, user_id: str) -> str:
    """One user's story, one line per service: what it did for them, or why not yet."""
    status = workflow_status(sim, user_id)
    letters = [letter for letter in sim.dead_letters if letter.envelope.correlation_id == user_id]
    head = f"user {user_id}: campaign {status}"
    if status == words.STUCK:
        head += " (nothing left to deliver, yet the campaign never ended)"
    lines = [head]
    welcomes = sent(sim, "email-provider", user_id, "welcome")
    lines.append(f"  email      {len(welcomes)} welcome email(s) sent")
    if "analytics" in sim.services:
        times = sim.state("analytics").get("counted", []).count(user_id)
        lines.append(f"  analytics  counted {times} time(s)")
    if "crm" in sim.services:
        synced = user_id in sim.state("crm").get("contacts", {})
        lines.append(f"  crm        {'synced' if synced else 'not synced'}")
    campaign = [entry["what"] for entry in sent(sim, "email-provider", user_id)
                if entry["what"] != "welcome"]
    lines.append(f"  campaign   sent {', '.join(campaign) or 'nothing'}")
    texts = sent(sim, "sms-gateway", user_id)
    if texts:
        lines.append(f"  sms        {len(texts)} text(s) sent")
    lines += [f"  dead letter: {letter}" for letter in letters]
    return "\n".join(lines)
