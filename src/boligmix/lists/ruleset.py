"""The area-list rule sets, defined in `boligmix.rules.area_lists` (re-exported here for `boligmix.lists`)."""

from boligmix.rules.area_lists import (  # noqa: F401
    AREA_FIELDS,
    BUILTIN_VERSIONS,
    OUTPUT_FLAGS,
    Category,
    Criterion,
    RuleSet,
    RuleSetFile,
    Switch,
    SwitchValue,
    _coerce_switch,
    load_ruleset,
    load_ruleset_file,
    parse_ruleset,
    resolve_rules,
    version_for_year,
)
