"""The PICO funnel as a campaign mode: screen a million configs cheaply, train the few that fit.

Stages, in order (each stores its counts and its survivors; a restarted funnel skips stored stages):
screen (MACs band, vectorised) -> predict (latency model within +-tolerance of the target) ->
measure (active learning on the agents) -> proxy (short MSE training, rung 0) -> full (rung 1).
Kept free of imports here: `nas.spec` imports `nas.funnel.spec`.
"""
