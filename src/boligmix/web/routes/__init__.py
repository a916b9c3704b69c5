"""The letting API's routes by page group, each added by `create_app` (in this order, the order of
the OpenAPI document): `stock`, `waiting_lists`, `letting`, `reports` (with the audit trail). The
service routes (health, whoami, the offline docs) are `boligmix.web.app`'s own."""
