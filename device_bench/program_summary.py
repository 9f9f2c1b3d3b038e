"""Read an exported program back: which ops it runs, how many, and at which precision.

The summary is plain JSON, stored next to the artifact, so a result can be explained later
("this config ran 14 conv_transpose ops in fp16 with int8 weights") without the tools that made it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import onnx

# Ops that only hold or decode weights; they cost no time per prediction.
_COREML_WEIGHT_OPS = ("const", "constexpr_")
# Casts at the graph's edges are the price of fp16 compute with fp32 inputs, not compute.
_COREML_BOOKKEEPING_OPS = {"cast"}
_DTYPE_NAMES = {
    "FLOAT16": "fp16",
    "FLOAT32": "fp32",
    "FLOAT": "fp32",  # ONNX spells fp32 and fp64 this way
    "DOUBLE": "fp64",
    "FLOAT64": "fp64",
    "BFLOAT16": "bf16",
    "INT8": "int8",
    "UINT8": "uint8",
    "INT4": "int4",
    "UINT4": "uint4",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "BOOL": "bool",
}


def _dtype_name(enum_name: str) -> str:
    return _DTYPE_NAMES.get(enum_name, enum_name.lower())


def _coreml_operations(operations: Iterable[Any]) -> Iterable[Any]:
    """Every operation, descending into nested blocks (cond / while bodies)."""
    for op in operations:
        yield op
        for block in op.blocks:
            yield from _coreml_operations(block.operations)


def _overall_precision(dtypes: Counter[str]) -> str:
    if not dtypes:
        return "none"
    if len(dtypes) == 1:
        return next(iter(dtypes))
    return "mixed(" + ",".join(sorted(dtypes)) + ")"


def summarize_coreml_spec(spec: Any) -> dict[str, Any]:
    """Summary of a Core ML model spec (`MLModel.get_spec()`) holding an ML program."""
    from coremltools.proto import MIL_pb2  # optional dependency: only Core ML paths need it

    if spec.WhichOneof("Type") != "mlProgram":
        raise ValueError(f"expected an ML program, the spec holds a {spec.WhichOneof('Type')!r}")
    functions = {}
    for name, function in spec.mlProgram.functions.items():
        block = function.block_specializations[function.opset]
        op_types: Counter[str] = Counter()
        compute_dtypes: Counter[str] = Counter()
        weight_dtypes: Counter[str] = Counter()
        for op in _coreml_operations(block.operations):
            op_types[op.type] += 1
            if op.type.startswith(_COREML_WEIGHT_OPS):
                for key, value in op.attributes.items():
                    if key in ("val", "quantized_data", "data", "indices", "lut"):
                        tensor_type = value.type.tensorType
                        dims = [d.constant.size for d in tensor_type.dimensions]
                        dtype = _dtype_name(MIL_pb2.DataType.Name(tensor_type.dataType))
                        # weights, not scalars, pads, strides or boolean masks
                        if len(dims) >= 2 and dtype != "bool":
                            weight_dtypes[dtype] += 1
                continue
            if op.type in _COREML_BOOKKEEPING_OPS:
                continue
            for output in op.outputs:
                data_type = output.type.tensorType.dataType
                compute_dtypes[_dtype_name(MIL_pb2.DataType.Name(data_type))] += 1
        functions[name] = {
            "opset": function.opset,
            "op_types": dict(sorted(op_types.items())),
            "compute_ops": sum(compute_dtypes.values()),
            "compute_precision": _overall_precision(compute_dtypes),
            "weight_precision": _overall_precision(weight_dtypes),
        }
    return {
        "format": "mlprogram",
        "specification_version": int(spec.specificationVersion),
        "inputs": [_coreml_feature(f) for f in spec.description.input],
        "outputs": [_coreml_feature(f) for f in spec.description.output],
        "functions": functions,
        "metadata": dict(spec.description.metadata.userDefined),
    }


def _coreml_feature(feature: Any) -> dict[str, Any]:
    from coremltools.proto import FeatureTypes_pb2

    array = feature.type.multiArrayType
    data_type = FeatureTypes_pb2.ArrayFeatureType.ArrayDataType.Name(array.dataType)
    return {"name": feature.name, "shape": [int(d) for d in array.shape], "dtype": data_type}


def summarize_onnx(onnx_model: bytes) -> dict[str, Any]:
    """Summary of an ONNX model: op types and counts, weight and input element types."""
    model = onnx.load_from_string(onnx_model)
    graph = model.graph
    op_types = Counter(node.op_type for node in graph.node)
    weight_dtypes = Counter(
        _dtype_name(onnx.TensorProto.DataType.Name(t.data_type))
        for t in graph.initializer
        if len(t.dims) >= 2
    )

    def value_info(value: onnx.ValueInfoProto) -> dict[str, Any]:
        tensor = value.type.tensor_type
        return {
            "name": value.name,
            "shape": [d.dim_value for d in tensor.shape.dim],
            "dtype": _dtype_name(onnx.TensorProto.DataType.Name(tensor.elem_type)),
        }

    return {
        "format": "onnx",
        "opsets": {entry.domain or "ai.onnx": entry.version for entry in model.opset_import},
        "inputs": [value_info(v) for v in graph.input],
        "outputs": [value_info(v) for v in graph.output],
        "op_types": dict(sorted(op_types.items())),
        "nodes": len(graph.node),
        "weight_precision": _overall_precision(weight_dtypes),
    }
