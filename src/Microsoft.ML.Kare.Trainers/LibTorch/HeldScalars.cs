using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.LibTorch;

/// <summary>
/// Tensor operations that pass a number to libtorch (the alpha of 1 in a sum of tensors included), with a
/// <see cref="Scalar"/> that stays alive until libtorch has read it.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's <see cref="Scalar"/> wraps a native pointer that its finalizer frees. The scalars it makes for an
/// operation (<c>tensor * 2.0</c>, <c>tensor.square()</c>, <c>tensor.ToDouble()</c>, and the alpha of 1 in every
/// <c>tensor + tensor</c> and <c>add_</c>) are unreachable as soon as their pointer is passed to native code, so a
/// garbage collection started by another thread can free one while libtorch still reads it. Measured with the benchmark
/// project: four threads doing <c>x + s</c> while a fifth collects garbage failed 64 and 233 times in 305,100 and
/// 232,600 operations with libtorch's "Expected false to be true" or "Unknown scalar type" (<c>--scalar-race</c>), and
/// 24 of 40 cross-validated fits failed under continuous collection (<c>--collection-stress</c>); with held scalars, 0
/// and 0. Every method here makes its scalar with <c>ToScalar</c> and disposes of it after the call, or uses a static
/// one that is never collected, and calls the libtorch operation TorchSharp's operator calls, so results are bit for
/// bit the same. A test (<c>HeldScalarsTests</c>) reads the built IL and fails on any other call in the library that
/// makes a scalar.
/// </remarks>
internal static class HeldScalars
{
    /// <summary>The alpha TorchSharp's <c>add</c> passes (an Int32 1); static, so never finalized.</summary>
    private static readonly Scalar One;

    /// <summary>The exponent TorchSharp's <c>square</c> passes (an Int32 2).</summary>
    private static readonly Scalar Two;

    // Creating a scalar loads libtorch: an explicit static constructor runs at the first call of a method here (which
    // has tensors, so libtorch is loaded), never earlier, before TorchRuntime has prepared libtorch's environment.
    static HeldScalars()
    {
        One = 1.ToScalar();
        Two = 2.ToScalar();
    }

    /// <summary>The value of a one-element tensor (TorchSharp's <c>ToDouble()</c>, which reads it through a scalar).</summary>
    public static double ScalarValue(this Tensor a)
    {
        using Scalar scalar = a.ToScalar();
        return scalar.ToDouble();
    }

    /// <summary>a + b.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary>a += b, in place.</summary>
    public static Tensor AddInPlace(this Tensor a, Tensor b) => a.add_(b, One);

    /// <summary>a += alpha · b, in place.</summary>
    public static Tensor AddScaledInPlace(this Tensor a, Tensor b, double alpha)
    {
        using Scalar scalar = alpha.ToScalar();
        return a.add_(b, scalar);
    }

    /// <summary>a + value.</summary>
    public static Tensor Plus(this Tensor a, double value)
    {
        using Scalar scalar = value.ToScalar();
        return a.add(scalar, One);
    }

    /// <summary>a += value, in place.</summary>
    public static Tensor AddInPlace(this Tensor a, double value)
    {
        using Scalar scalar = value.ToScalar();
        return a.add_(scalar, One);
    }

    /// <summary>value − a (TorchSharp's <c>value - a</c>: −a + value).</summary>
    public static Tensor SubtractedFrom(this Tensor a, double value)
    {
        using Scalar scalar = value.ToScalar();
        using Tensor negative = a.negative();
        return negative.add(scalar, One);
    }

    /// <summary>a · value.</summary>
    public static Tensor Times(this Tensor a, double value)
    {
        using Scalar scalar = value.ToScalar();
        return a.mul(scalar);
    }

    /// <summary>a · value, with an integer scalar (as TorchSharp's operator with a long).</summary>
    public static Tensor Times(this Tensor a, long value)
    {
        using Scalar scalar = value.ToScalar();
        return a.mul(scalar);
    }

    /// <summary>a ·= value, in place.</summary>
    public static Tensor MultiplyInPlace(this Tensor a, double value)
    {
        using Scalar scalar = value.ToScalar();
        return a.mul_(scalar);
    }

    /// <summary>a / value.</summary>
    public static Tensor DividedBy(this Tensor a, double value)
    {
        using Scalar scalar = value.ToScalar();
        return a.div(scalar);
    }

    /// <summary>a / value, with an integer scalar (as TorchSharp's operator with a long).</summary>
    public static Tensor DividedBy(this Tensor a, long value)
    {
        using Scalar scalar = value.ToScalar();
        return a.div(scalar);
    }

    /// <summary>a /= value, in place, with an integer scalar.</summary>
    public static Tensor DivideInPlace(this Tensor a, long value)
    {
        using Scalar scalar = value.ToScalar();
        return a.div_(scalar);
    }

    /// <summary>a /= value, in place.</summary>
    public static Tensor DivideInPlace(this Tensor a, double value)
    {
        using Scalar scalar = value.ToScalar();
        return a.div_(scalar);
    }

    /// <summary>a² element-wise (TorchSharp's <c>square</c>: a to the integer power 2).</summary>
    public static Tensor Squared(this Tensor a) => a.pow(Two);

    /// <summary>a &gt; value element-wise (a boolean tensor), with an integer scalar (as TorchSharp's operator with an int).</summary>
    public static Tensor GreaterThan(this Tensor a, int value)
    {
        using Scalar scalar = value.ToScalar();
        return a.gt(scalar);
    }

    /// <summary>a &gt; value element-wise (a boolean tensor).</summary>
    public static Tensor GreaterThan(this Tensor a, double value)
    {
        using Scalar scalar = value.ToScalar();
        return a.gt(scalar);
    }

    /// <summary>A tensor shaped and typed like <paramref name="like"/>, every element <paramref name="value"/>.</summary>
    public static Tensor FullLike(this Tensor like, double value)
    {
        using Scalar scalar = value.ToScalar();
        return torch.full_like(like, scalar);
    }

    /// <summary>Every element of a set to value, in place.</summary>
    public static Tensor FillInPlace(this Tensor a, double value)
    {
        using Scalar scalar = value.ToScalar();
        return a.fill_(scalar);
    }

    /// <summary>a += value · t1 ⊙ t2, in place (libtorch's addcmul_).</summary>
    public static Tensor AddProductInPlace(this Tensor a, Tensor t1, Tensor t2, double value)
    {
        using Scalar scalar = value.ToScalar();
        return a.addcmul_(t1, t2, scalar);
    }

    /// <summary>max(a, minimum) element-wise.</summary>
    public static Tensor ClampMin(this Tensor a, double minimum)
    {
        using Scalar scalar = minimum.ToScalar();
        return a.clamp_min(scalar);
    }
}
