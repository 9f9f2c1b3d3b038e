"""The search: domain types, campaign specs, storage, samplers, Pareto bookkeeping, controller."""
