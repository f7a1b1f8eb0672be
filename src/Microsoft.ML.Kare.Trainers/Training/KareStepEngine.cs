using System.Diagnostics;
using System;
using Microsoft.ML.Kare.Kernels;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Solvers;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// One KARE training step (docs/maths.md, "KARE") without autograd through any n×n tensor: the structured kernel is built into
/// reused buffers, dρ/dK comes in closed form from one Cholesky factorisation, and its contraction with the kernel's
/// derivative is done by hand, layer by layer:
/// with G = dρ/dK (symmetric) and K = Σ_l (Δ_l Δ_lᵀ) ⊙ (A_{l−1}A_{l−1}ᵀ + 1) + A_L A_Lᵀ + 1,
///   ∂⟨G, K⟩/∂Δ_l = 2 (G ⊙ (A_{l−1}A_{l−1}ᵀ + 1)) Δ_l,  ∂⟨G, K⟩/∂A_{l−1} = 2 (G ⊙ Δ_lΔ_lᵀ) A_{l−1},  ∂⟨G, K⟩/∂A_L = 2 G A_L.
/// Only those n×width upstream gradients enter autograd, which pushes them through the network's forward and
/// backprop graph to θ. Layer 1's factor X Xᵀ + 1 does not depend on θ and is cached by the <see cref="RowSet"/>.
/// The buffers are kept between steps (reallocated only when the batch grows) and freed by <see cref="Dispose"/>.
/// </summary>
internal sealed class KareStepEngine : IDisposable
{
    private Tensor? _square;        // K, then A² and G = dρ/dK
    private Tensor? _scratch;       // Δ_1Δ_1ᵀ, then G ⊙ (X Xᵀ + 1)
    private Tensor?[] _grams = Array.Empty<Tensor?>();       // [l] = A_l A_lᵀ + 1 for l ≥ 1
    private Tensor?[] _deltaGrams = Array.Empty<Tensor?>();  // [l] = Δ_{l+1} Δ_{l+1}ᵀ for l ≥ 1
    private long _capacity;

    /// <summary>
    /// 0 (the default): the exact gradient. m &gt; 0: an internal, experimental option replacing A² in dρ/dK by m
    /// Hutchinson probes (<see cref="KareObjective.ValueAndStochasticGradientInPlace"/>): unbiased, cheaper solve, noisier.
    /// </summary>
    public int StochasticProbes { get; init; }

    /// <summary>
    /// The floating-point type of the step's n×n algebra (kernel, solve, dρ/dK and its contraction): Float64 (the
    /// default) or Float32. The network, its parameters and autograd stay float64; only the n×width gradients handed to
    /// autograd are converted back.
    /// </summary>
    public ScalarType Precision { get; init; } = ScalarType.Float64;

    /// <summary>Seeds the probes of <see cref="StochasticProbes"/>.</summary>
    public long ProbeSeed { get; init; } = 1;

    private Generator? _probeGenerator;

    /// <summary>When set, each step adds its time split to it (costs a few synchronisations, no allocations).</summary>
    public KareStepProfile? Profile { get; set; }

    /// <summary>One step: dρ/dθ accumulated into the parameters' gradients, then the optimiser's update. Returns ρ.</summary>
    public double Step(MlpNetwork network, ParameterOptimizer optimizer, RowSet batch, double relativeRidge)
    {
        double value = AccumulateGradient(network, batch, relativeRidge);
        if (!double.IsFinite(value))
            return value;
        long start = Stopwatch.GetTimestamp();
        optimizer.Step();
        Profile?.Add(KareStepPhase.Update, start);
        Profile?.CountStep();
        return value;
    }

    /// <summary>
    /// ρ at the current θ and dρ/dθ added to each parameter's <c>grad</c> (b_out, on which K does not depend, gets none).
    /// Returns ρ, or a non-finite value (and no gradient) when the kernel or ρ is not finite.
    /// </summary>
    public double AccumulateGradient(MlpNetwork network, RowSet batch, double relativeRidge)
    {
        using var scope = torch.NewDisposeScope();
        long start = Stopwatch.GetTimestamp();
        int n = batch.Count;
        NetworkFeatures features = network.Features(batch.Features);
        int depth = features.Deltas.Length;
        EnsureCapacity(n, depth);
        var (activations, deltas) = Detached(features, Precision);

        Tensor kernel = View(_square!, n);
        Tensor scratch = View(_scratch!, n);
        var (grams, deltaGrams) = BuildKernel(kernel, scratch, activations, deltas, batch);
        Profile?.Add(KareStepPhase.Kernel, start);

        start = Stopwatch.GetTimestamp();
        if (!double.IsFinite(kernel.sum().ScalarValue()))
            return double.NaN;
        // K is overwritten by the solve, G = dρ/dK (of the weighted kernel) lands in the same buffer.
        double value = ValueAndGradientInPlace(kernel, batch, relativeRidge);
        Profile?.Add(KareStepPhase.Solve, start);
        if (!double.IsFinite(value))
            return value;

        start = Stopwatch.GetTimestamp();
        var (upstreamTensors, upstreamGradients) = UpstreamGradients(kernel, scratch, grams, deltaGrams, activations, deltas, features, Scales(batch));
        Profile?.Add(KareStepPhase.KernelBackward, start);

        start = Stopwatch.GetTimestamp();
        torch.autograd.backward(upstreamTensors, upstreamGradients);
        Profile?.Add(KareStepPhase.NetworkBackward, start);
        return value;
    }

    /// <summary>
    /// The activations A_0 … A_L and backprop deltas Δ_1 … Δ_L of the network, detached from autograd, in
    /// <paramref name="precision"/>.
    /// </summary>
    private static (Tensor[] Activations, Tensor[] Deltas) Detached(NetworkFeatures features, ScalarType precision)
    {
        int depth = features.Deltas.Length;
        Tensor[] activations = new Tensor[depth + 1];
        Tensor[] deltas = new Tensor[depth];
        for (int l = 0; l <= depth; l++)
            activations[l] = features.Activations[l].detach().to_type(precision);
        for (int l = 0; l < depth; l++)
            deltas[l] = features.Deltas[l].detach().to_type(precision);
        return (activations, deltas);
    }

    /// <summary>The batch's row scales in the step's precision (null when unweighted).</summary>
    private Tensor? Scales(RowSet batch) => batch.Scales?.to_type(Precision);

    /// <summary>
    /// The weighted kernel K into <paramref name="kernel"/>, and the per-layer factors it is built from:
    /// [l] = A_l A_lᵀ + 1 (the cached X Xᵀ + 1 for l = 0) and [l] = Δ_{l+1} Δ_{l+1}ᵀ (in <paramref name="scratch"/> for l = 0).
    /// </summary>
    private (Tensor[] Grams, Tensor[] DeltaGrams) BuildKernel(Tensor kernel, Tensor scratch, Tensor[] activations, Tensor[] deltas, RowSet batch)
    {
        int n = batch.Count;
        int depth = deltas.Length;
        var grams = new Tensor[depth];
        var deltaGrams = new Tensor[depth];
        grams[0] = batch.InputGram(Precision);
        using (torch.no_grad())
        {
            // K = A_L A_Lᵀ + 1 + Σ_l (Δ_l Δ_lᵀ) ⊙ (A_{l−1} A_{l−1}ᵀ + 1)
            kernel.FillInPlace(1.0).addmm_(activations[depth], activations[depth].t(), 1f, 1f);
            for (int l = 0; l < depth; l++)
            {
                if (l > 0)
                {
                    grams[l] = View(_grams[l]!, n).FillInPlace(1.0).addmm_(activations[l], activations[l].t(), 1f, 1f);
                    deltaGrams[l] = View(_deltaGrams[l]!, n).addmm_(deltas[l], deltas[l].t(), 0f, 1f);
                }
                else
                {
                    deltaGrams[0] = scratch.addmm_(deltas[0], deltas[0].t(), 0f, 1f);
                }
                kernel.AddProductInPlace(deltaGrams[l], grams[l], 1.0);
            }
            if (Scales(batch) is Tensor s)
                kernel.mul_(s.unsqueeze(1)).mul_(s.unsqueeze(0));
        }
        return (grams, deltaGrams);
    }

    /// <summary>ρ of the weighted kernel, with dρ/dK overwriting it: exact, or with <see cref="StochasticProbes"/> probes.</summary>
    private double ValueAndGradientInPlace(Tensor kernel, RowSet batch, double relativeRidge)
    {
        if (StochasticProbes > 0)
        {
            _probeGenerator ??= CreateGenerator(ProbeSeed);
            Tensor probes = torch.randn(batch.Count, StochasticProbes, ScalarType.Float64, generator: _probeGenerator).to_type(Precision);
            return KareObjective.ValueAndStochasticGradientInPlace(kernel, batch.WeightedTargets.to_type(Precision), relativeRidge, probes, kernel);
        }
        return KareObjective.ValueAndGradientInPlace(kernel, batch.WeightedTargets.to_type(Precision), relativeRidge, kernel);
    }

    /// <summary>
    /// The contraction of G = dρ/dK (in <paramref name="gradient"/>, unweighted in place) with the kernel's derivative:
    /// the network tensors Δ_1 … Δ_L, A_1 … A_L and the gradients of ⟨G, K⟩ with respect to each, for autograd. Overwrites
    /// the per-layer factors and <paramref name="scratch"/>.
    /// </summary>
    private static (Tensor[] Tensors, Tensor[] Gradients) UpstreamGradients(Tensor gradient, Tensor scratch, Tensor[] grams, Tensor[] deltaGrams,
        Tensor[] activations, Tensor[] deltas, NetworkFeatures features, Tensor? scales)
    {
        int depth = deltas.Length;
        var upstreamTensors = new Tensor[2 * depth];
        var upstreamGradients = new Tensor[2 * depth];
        using (torch.no_grad())
        {
            if (scales is Tensor s)
                gradient.mul_(s.unsqueeze(1)).mul_(s.unsqueeze(0)); // dρ/dK = S (dρ/dK_w) S
            Tensor outputGradient = gradient.mm(activations[depth]).MultiplyInPlace(2.0);
            Tensor?[] activationGradients = new Tensor?[depth + 1];
            activationGradients[depth] = outputGradient;
            for (int l = 0; l < depth; l++)
            {
                // G ⊙ (A_{l−1}A_{l−1}ᵀ + 1): in the layer's own buffer (recomputed next step), or in scratch for the cached X Xᵀ + 1.
                Tensor weightedGram = l == 0 ? scratch.copy_(grams[0]).mul_(gradient) : grams[l].mul_(gradient);
                upstreamGradients[l] = weightedGram.mm(deltas[l]).MultiplyInPlace(2.0);
                upstreamTensors[l] = features.Deltas[l];
                if (l > 0)
                {
                    Tensor contribution = deltaGrams[l].mul_(gradient).mm(activations[l]).MultiplyInPlace(2.0);
                    activationGradients[l] = activationGradients[l] is Tensor existing ? existing.AddInPlace(contribution) : contribution;
                }
            }
            for (int l = 1; l <= depth; l++)
            {
                upstreamTensors[depth - 1 + l] = features.Activations[l];
                upstreamGradients[depth - 1 + l] = activationGradients[l]!;
            }
            // Autograd runs through the float64 network: its upstream gradients come in its type.
            for (int i = 0; i < upstreamGradients.Length; i++)
                upstreamGradients[i] = upstreamGradients[i].to_type(upstreamTensors[i].dtype);
        }
        return (upstreamTensors, upstreamGradients);
    }

    /// <summary>
    /// The straightforward step kept as the reference: K with autograd history, dρ/dK in closed form into fresh tensors,
    /// then one autograd backward of sum(K ⊙ dρ/dK) through every n×n tensor of the kernel.
    /// </summary>
    public static double ReferenceAccumulateGradient(MlpNetwork network, RowSet batch, double relativeRidge)
    {
        using var scope = torch.NewDisposeScope();
        NetworkFeatures features = network.Features(batch.Features);
        Tensor kernel = StructuredNtk.Compute(features, features);
        Tensor weightedKernel = batch.WeightKernel(kernel.detach());
        if (!double.IsFinite(weightedKernel.sum().item<double>()))
            return double.NaN;
        var (value, gradient, _) = KareObjective.ValueAndGradient(weightedKernel, batch.WeightedTargets, relativeRidge);
        if (!double.IsFinite(value))
            return value;
        Tensor surrogate = (kernel * batch.WeightKernel(gradient)).sum();
        surrogate.backward();
        return value;
    }

    /// <summary>The reference step followed by the optimiser's update.</summary>
    public static double ReferenceStep(MlpNetwork network, ParameterOptimizer optimizer, RowSet batch, double relativeRidge)
    {
        double value = ReferenceAccumulateGradient(network, batch, relativeRidge);
        if (double.IsFinite(value))
            optimizer.Step();
        return value;
    }

    private static Generator CreateGenerator(long seed)
    {
        return new Generator((ulong)seed);
    }

    public void Dispose()
    {
        _probeGenerator?.Dispose();
        _probeGenerator = null;
        FreeBuffers();
    }

    private void FreeBuffers()
    {
        _square?.Dispose();
        _scratch?.Dispose();
        foreach (Tensor? t in _grams)
            t?.Dispose();
        foreach (Tensor? t in _deltaGrams)
            t?.Dispose();
        _square = null;
        _scratch = null;
        _grams = Array.Empty<Tensor?>();
        _deltaGrams = Array.Empty<Tensor?>();
        _capacity = 0;
    }

    /// <summary>The first n² entries of a flat buffer as a contiguous n×n matrix.</summary>
    private static Tensor View(Tensor buffer, long n) => buffer.narrow(0, 0, n * n).view(n, n);

    private void EnsureCapacity(long n, int depth)
    {
        long needed = n * n;
        if (needed <= _capacity && _grams.Length == depth)
            return;
        FreeBuffers();
        _capacity = needed;
        _square = Buffer(needed, Precision);
        _scratch = Buffer(needed, Precision);
        _grams = new Tensor?[depth];
        _deltaGrams = new Tensor?[depth];
        for (int l = 1; l < depth; l++)
        {
            _grams[l] = Buffer(needed, Precision);
            _deltaGrams[l] = Buffer(needed, Precision);
        }
    }

    private static Tensor Buffer(long size, ScalarType precision)
    {
        Tensor buffer = torch.empty(size, precision);
        buffer.DetachFromDisposeScope();
        return buffer;
    }
}

/// <summary>The parts of a KARE step that <see cref="KareStepProfile"/> times.</summary>
internal enum KareStepPhase
{
    /// <summary>Network forward (activations and backprop deltas) and the n×n kernel.</summary>
    Kernel,

    /// <summary>Cholesky, A, ρ and dρ/dK.</summary>
    Solve,

    /// <summary>The hand-written contraction of dρ/dK with the kernel's derivative (n×n × n×width products).</summary>
    KernelBackward,

    /// <summary>Autograd from the per-layer Δ and A gradients to θ.</summary>
    NetworkBackward,

    /// <summary>The optimiser's update.</summary>
    Update,
}

/// <summary>Accumulated wall-clock time per <see cref="KareStepPhase"/> over steps.</summary>
internal sealed class KareStepProfile
{
    private readonly long[] _ticks = new long[Enum.GetValues<KareStepPhase>().Length];

    public int Steps { get; private set; }

    public void Add(KareStepPhase phase, long startTimestamp) => _ticks[(int)phase] += Stopwatch.GetTimestamp() - startTimestamp;

    public void CountStep() => Steps++;

    /// <summary>Mean milliseconds per step spent in <paramref name="phase"/>.</summary>
    public double MillisecondsPerStep(KareStepPhase phase)
        => Steps == 0 ? double.NaN : _ticks[(int)phase] * 1000.0 / Stopwatch.Frequency / Steps;

    public void Reset()
    {
        Array.Clear(_ticks);
        Steps = 0;
    }
}
