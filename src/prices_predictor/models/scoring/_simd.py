"""Vector operations numba cannot express, written as LLVM IR (``numba.extending.intrinsic``).

LLVM lowers them to AVX-512 (or AVX2) instructions of the machine that compiles them. Used by
the QuickScorer kernel in ``_jit``; ``LANES`` rows are scored side by side.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

LANES = 64  # rows per block; one bit each in a lane mask (uint64)

_I32 = ir.IntType(32)
_F64 = ir.DoubleType()


def _splat(builder: ir.IRBuilder, vt: ir.VectorType, value: ir.Value) -> ir.Value:
    one = builder.insert_element(ir.Constant(vt, ir.Undefined), value, ir.Constant(_I32, 0))
    zeros = ir.Constant(ir.VectorType(_I32, vt.count), [0] * vt.count)
    return builder.shuffle_vector(one, ir.Constant(vt, ir.Undefined), zeros)


def _data(context: Any, builder: ir.IRBuilder, arrtype: Any, arr: ir.Value) -> ir.Value:
    return context.make_array(arrtype)(context, builder, arr).data


def _lane_mask(typingctx: Any, xt: Any, offset: Any, threshold: Any) -> Any:
    """Bit r set where ``xt[offset + r] > threshold``, for r < LANES (float64 values)."""
    sig = types.uint64(xt, offset, threshold)

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> ir.Value:
        data = _data(context, builder, signature.args[0], args[0])
        vf = ir.VectorType(_F64, LANES)
        ptr = builder.bitcast(builder.gep(data, [args[1]]), vf.as_pointer())
        above = builder.fcmp_ordered(">", builder.load(ptr, align=8), _splat(builder, vf, args[2]))
        return builder.bitcast(above, ir.IntType(LANES))

    return sig, codegen


def _and_lanes(typingctx: Any, bits: Any, offset: Any, lanes: Any, mask: Any) -> Any:
    """``bits[offset + r] &= mask`` for each lane r set in ``lanes`` (r < LANES)."""
    sig = types.void(bits, offset, lanes, mask)

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> ir.Value:
        width = signature.args[0].dtype.bitwidth
        data = _data(context, builder, signature.args[0], args[0])
        vi = ir.VectorType(ir.IntType(width), LANES)
        ptr = builder.bitcast(builder.gep(data, [args[1]]), vi.as_pointer())
        chosen = builder.bitcast(args[2], ir.VectorType(ir.IntType(1), LANES))
        m = args[3]
        if m.type.width != width:
            m = (
                builder.trunc(m, ir.IntType(width))
                if m.type.width > width
                else builder.zext(m, ir.IntType(width))
            )
        keep = builder.select(chosen, _splat(builder, vi, m), ir.Constant(vi, [-1] * LANES))
        builder.store(builder.and_(builder.load(ptr, align=8), keep), ptr, align=8)
        return context.get_dummy_value()

    return sig, codegen


def _f64_bits(typingctx: Any, x: Any) -> Any:
    """The IEEE-754 bits of a float64, as int64."""

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> ir.Value:
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


def _bits_f64(typingctx: Any, b: Any) -> Any:
    """The float64 with the given IEEE-754 bits."""

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> ir.Value:
        return builder.bitcast(args[0], _F64)

    return types.float64(types.int64), codegen


def _lowest_bit(typingctx: Any, x: Any) -> Any:
    """The index of the lowest set bit (LLVM's ``cttz``; the leaf a QuickScorer mask selects).
    Undefined for 0, which a tree's mask never is (its rightmost leaf stays set)."""
    sig = types.uint64(x)

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> ir.Value:
        value = args[0]
        width = value.type.width
        fn = builder.module.declare_intrinsic(
            "llvm.cttz", [value.type], ir.FunctionType(value.type, [value.type, ir.IntType(1)])
        )
        count = builder.call(fn, [value, ir.Constant(ir.IntType(1), 1)])
        return builder.zext(count, ir.IntType(64)) if width < 64 else count

    return sig, codegen


# typed as Any: mypy would read the typing context as the first argument of each call
lane_mask: Any = intrinsic(_lane_mask)
and_lanes: Any = intrinsic(_and_lanes)
f64_bits: Any = intrinsic(_f64_bits)
bits_f64: Any = intrinsic(_bits_f64)
lowest_bit: Any = intrinsic(_lowest_bit)
