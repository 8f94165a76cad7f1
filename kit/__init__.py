"""The kit every gongkao service shares: config, clock, database with outbox and inbox,
event envelope, error types, logging. It knows no service and no gateway."""
