"""Emergency power: how long the town's shelters stay supplied by PV, storage and the shared cars in an outage."""
