"""Follow-ups of rejections in the letting engine (`RejectionFollowUps`, mixed into
`LettingEngine`): § 51 b entitlements to an offer elsewhere (kombineret udlejning) and § 59 stk. 6
redirected referrals, granted when a rule rejects an applicant and carried as priority rights in
later rounds.

Pure domain: no I/O. The engine provides `ledger`, `policies` and `_decision`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

from boligmix.letting.assessment import Assessment
from boligmix.letting.ledger import Entitlement, LettingLedger, RedirectedReferral
from boligmix.letting.model import Applicant, Channel, Decision, ListType, Outcome, Vacancy
from boligmix.letting.policy import TOOL_SWITCHES, PolicySet
from boligmix.letting.ranking import REFERRAL_CHANNELS

ENTITLEMENT_RIGHT = "kombineret_udlejning_tilbud"
"""The priority right (`Applicant.priority_rights`) that carries a § 51 b entitlement to an offer
outside the kombineret udlejning area; read by the waiting-list policy's priority rule."""

SCHEME_CATEGORY = "kombineret_udlejning"

REDIRECT_RIGHT = "redirected_referral"
"""The priority right (`Applicant.priority_rights`) of a § 59 stk. 6/7 referral (or rehousing
household) the engine recorded as redirected, at the municipality's later dwellings of the same
channel; read by the policy
`dk.almenboligloven.59.redirect` (`statutory/anvisning_redirect.yaml`), which ranks it first."""


class RejectionFollowUps:
    """§ 51 b entitlements and § 59 stk. 6 redirects: granted after a rejection, used in later rounds."""

    ledger: LettingLedger
    policies: PolicySet

    _decision: Callable[..., Decision]
    """The engine's decision record (`OfferResolver._decision`)."""

    def _with_redirect(self, applicant: Applicant, vacancy: Vacancy, channel: Channel) -> Applicant:
        """The referral (or rehousing household) with the `redirected_referral` priority right when
        the engine recorded it as redirected (§ 59 stk. 6/7) in the dwelling's municipality
        (referral channels only)."""
        redirect = self.ledger.redirected.get(applicant.applicant_id)
        if channel not in REFERRAL_CHANNELS or redirect is None \
                or redirect.municipality_code != vacancy.dwelling.municipality_code \
                or REDIRECT_RIGHT in applicant.priority_rights:
            return applicant
        return replace(applicant, priority_rights=applicant.priority_rights | {REDIRECT_RIGHT})

    def _offer_by(self, ent: Entitlement) -> str:
        """Who makes the offer of a § 51 b entitlement: recorded at grant time, else the switch of
        the policy that granted it (the law's default when that version is no longer loaded)."""
        if ent.offer_by is not None:
            return ent.offer_by
        try:
            return str(self.policies.get(ent.policy_id, ent.policy_version).switch("offer_elsewhere_by"))
        except KeyError:
            return str(TOOL_SWITCHES["kombineret_udlejning"]["offer_elsewhere_by"].default)

    def _with_entitlement(self, applicant: Applicant, vacancy: Vacancy) -> Applicant:
        """The applicant with the § 51 b priority right when it holds an open entitlement the
        organisation fulfils (`offer_elsewhere_by: organisation`) for the dwelling's organisation
        (the waiting-list rule checks the dwelling is outside the area). An entitlement the
        municipality fulfils gives no waiting-list priority: the municipality refers the household."""
        ent = self.ledger.entitlements.get(applicant.applicant_id)
        if ent is None or ent.fulfilled_by is not None or ent.org_id != vacancy.dwelling.org_id \
                or ENTITLEMENT_RIGHT in applicant.priority_rights or self._offer_by(ent) != "organisation":
            return applicant
        return replace(applicant, priority_rights=applicant.priority_rights | {ENTITLEMENT_RIGHT})

    def _use_entitlement(self, applicant_id: int, vacancy: Vacancy, channel: Channel, offer_id: str) -> None:
        """An offer outside the scheme's area uses an `on_offer` entitlement up: through the
        waiting list or fleksibel at the organisation's dwellings (offer by the organisation), or
        through the municipality's referral (offer by the municipality, in its municipality)."""
        ent = self.ledger.entitlements.get(applicant_id)
        if ent is None or ent.fulfilled_by is not None or ent.ends != "on_offer":
            return
        dwelling = vacancy.dwelling
        if SCHEME_CATEGORY in dwelling.area_categories:
            return
        if self._offer_by(ent) == "organisation":
            used = dwelling.org_id == ent.org_id and channel in (Channel.WAITING_LIST, Channel.FLEKSIBEL)
        else:
            used = channel == Channel.KOMMUNAL_ANVISNING and ent.municipality_code in (None, dwelling.municipality_code)
        if used:
            self.ledger.entitlements[applicant_id] = replace(ent, fulfilled_by=offer_id)

    def _after_rejection(self, vacancy: Vacancy, channel: Channel, applicant: Applicant, assessment: Assessment,
                         now: datetime, round_id: str) -> list[Decision]:
        policy = assessment.policy
        hit = assessment.hit
        if policy is None or hit is None:
            return []
        aid = applicant.applicant_id
        dwelling = vacancy.dwelling
        if policy.spec.tool == "kombineret_udlejning" and policy.switch("offer_elsewhere_for_prior_registrants") \
                and applicant.list_type in (ListType.EXTERNAL, ListType.INTERNAL) and aid not in self.ledger.entitlements:
            introduced_on = policy.switch("scheme_introduced_on") or policy.spec.effective_from.isoformat()
            if applicant.seniority_date < date.fromisoformat(introduced_on):
                by = str(policy.switch("offer_elsewhere_by"))
                offer = (f"a dwelling in another area from municipality {dwelling.municipality_code} (its referral)"
                         if by == "municipality" else f"organisation {dwelling.org_id}'s dwellings outside the area")
                decision = self._decision(
                    now, Outcome.ENTITLED, vacancy, channel=channel, round_id=round_id, applicant=applicant,
                    policy=policy, rule_id=f"{policy.id}#offer_elsewhere",
                    reason=f"registered on {applicant.seniority_date.isoformat()}, before kombineret udlejning was "
                           f"introduced ({introduced_on}), and rejected by {hit.rule.rule_id}: entitled to an offer "
                           f"of {offer}",
                    facts={"registered_on": applicant.seniority_date, "scheme_introduced_on": introduced_on,
                           "rejected_by": hit.rule.rule_id, "org_id": dwelling.org_id, "area_id": dwelling.area_id,
                           "entitlement_ends": policy.switch("entitlement_ends"), "offer_elsewhere_by": by,
                           "municipality_code": dwelling.municipality_code})
                self.ledger.entitlements[aid] = Entitlement(
                    aid, dwelling.org_id, dwelling.area_id, policy.id, policy.version, decision.decision_id,
                    str(policy.switch("entitlement_ends")), None, by, dwelling.municipality_code)
                return [decision]
        if policy.spec.tool == "anvisning_restriction" and channel in REFERRAL_CHANNELS \
                and policy.switch("barred_referral") == "redirect" and aid not in self.ledger.redirected:
            categories = sorted(dwelling.area_categories)
            decision = self._decision(
                now, Outcome.REDIRECTED, vacancy, channel=channel, round_id=round_id, applicant=applicant,
                policy=policy, rule_id=f"{policy.id}#redirect",
                reason=f"barred by {hit.rule.rule_id} from a dwelling in a {'/'.join(categories)} area; the "
                       f"municipality must refer the household elsewhere: kept for the next "
                       f"{'referral' if channel == Channel.KOMMUNAL_ANVISNING else 'rehousing'} dwelling "
                       f"in municipality {dwelling.municipality_code}",
                facts={**hit.facts, "bar": hit.rule.rule_id, "area_categories": categories,
                       "municipality_code": dwelling.municipality_code, "redirect_channel": channel.value},
                unknown=hit.unknown)
            self.ledger.redirected[aid] = RedirectedReferral(
                applicant, dwelling.municipality_code, vacancy.vacancy_id, hit.rule.rule_id, policy.version,
                decision.decision_id)
            return [decision]
        return []
