using Microsoft.ML.Kare.Kernels;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Solvers;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// KARE training in kernel space (docs/maths.md, "KARE"): ρ of the batch's n×n kernel and its closed-form gradient, by
/// <see cref="KareStepEngine"/>; O(n³) per step. Also the objective of the NTK at initialisation, which never steps.
/// </summary>
internal sealed class KernelKareStep : ITrainingStep
{
    private readonly MlpNetwork _network;
    private readonly ParameterOptimizer _optimizer;
    private readonly double _relativeRidge;
    private readonly KareStepEngine _engine;

    /// <param name="network">The network whose kernel is trained.</param>
    /// <param name="optimizer">Its optimiser.</param>
    /// <param name="relativeRidge">z of the KARE objective, λ = z·Tr(K)/n².</param>
    /// <param name="stochasticProbes">0: the exact gradient; m &gt; 0: m Hutchinson probes for A².</param>
    /// <param name="probeSeed">Seeds the probes.</param>
    /// <param name="precision">The type of the step's n×n algebra (<see cref="KareStepEngine.Precision"/>).</param>
    public KernelKareStep(MlpNetwork network, ParameterOptimizer optimizer, double relativeRidge, int stochasticProbes, long probeSeed,
        ScalarType precision = ScalarType.Float64)
    {
        _network = network;
        _optimizer = optimizer;
        _relativeRidge = relativeRidge;
        _engine = new KareStepEngine { StochasticProbes = stochasticProbes, ProbeSeed = probeSeed, Precision = precision };
    }

    public double Step(RowSet batch, bool batchIsFixed) => _engine.Step(_network, _optimizer, batch, _relativeRidge);

    public double Objective(RowSet rows)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        NetworkFeatures features = _network.Features(rows.Features);
        Tensor kernel = rows.WeightKernel(StructuredNtk.Compute(features, features));
        return double.IsFinite(kernel.sum().item<double>()) ? KareObjective.Value(kernel, rows.WeightedTargets, _relativeRidge) : double.NaN;
    }

    public void Dispose() => _engine.Dispose();
}
