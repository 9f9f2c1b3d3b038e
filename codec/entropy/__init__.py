"""Entropy models (factorized density, Gaussian conditional) and their constriction coding."""

from codec.entropy.coder import LatentDecoder, LatentEncoder
from codec.entropy.factorized import FactorizedDensity
from codec.entropy.gaussian import GaussianConditional
from codec.entropy.lower_bound import lower_bound
from codec.entropy.tables import PRECISION_BITS, SymbolTable, quantize_pmf

__all__ = [
    "PRECISION_BITS",
    "FactorizedDensity",
    "GaussianConditional",
    "LatentDecoder",
    "LatentEncoder",
    "SymbolTable",
    "lower_bound",
    "quantize_pmf",
]
