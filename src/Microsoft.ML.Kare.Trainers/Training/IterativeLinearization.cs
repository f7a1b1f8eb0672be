using System;
using Microsoft.ML.Kare.Kernels;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// Iterative linearisation (docs/maths.md, "Other methods", Goldwaser and Ge): gradient steps on the mean squared error of the linearised
/// network f_lin(x; θ) = f(x; θ_k) + ∇θ f(x; θ_k)ᵀ(θ − θ_k), re-linearised at the current θ every
/// <c>interval</c> steps (θ_k ← θ). With interval 1 each step is an ordinary training step; with interval 0 the network
/// stays linearised at its initialisation (pure NTK, "lazy" training).
/// </summary>
/// <remarks>
/// The Jacobian rows J(θ_k) of a batch are formed explicitly (batch×P), so f_lin and its gradient Jᵀ(w ⊙ r) are two
/// matrix products; with a fixed full batch they are kept until the next re-linearisation.
/// </remarks>
internal sealed class IterativeLinearization : IDisposable
{
    private readonly KareNetworkArchitecture _architecture;
    private readonly int _interval;
    private double[]? _anchorParameters;
    private MlpNetwork? _anchor;
    private Tensor? _anchorFlat;
    private RowSet? _cachedRows;
    private Tensor? _cachedJacobian;
    private Tensor? _cachedOutputs;
    private long _steps;

    /// <param name="architecture">The network's shape.</param>
    /// <param name="interval">Steps between re-linearisations; 0 = never.</param>
    public IterativeLinearization(KareNetworkArchitecture architecture, int interval)
    {
        if (interval < 0)
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "Must be non-negative.");
        _architecture = architecture;
        _interval = interval;
    }

    /// <summary>θ_k, the current linearisation point (null before the first step).</summary>
    public double[]? AnchorParameters => _anchorParameters;

    /// <summary>Sets the linearisation point θ_k (and forgets cached Jacobians).</summary>
    public void Relinearize(double[] parameters)
    {
        ClearCache();
        _anchor?.Dispose();
        _anchorFlat?.Dispose();
        _anchorParameters = (double[])parameters.Clone();
        _anchor = MlpNetwork.FromParameters(_architecture, _anchorParameters);
        _anchorFlat = torch.tensor(_anchorParameters, ScalarType.Float64);
    }

    /// <summary>
    /// One step on Σ w_i (f_lin(x_i) − y_i)² / Σ w_i (single output), re-linearising first when the interval is due.
    /// Returns the loss before the update (non-finite: no update). <paramref name="batchIsFixed"/>: the same row set comes
    /// back every step (full batch), so its Jacobian at θ_k is kept until the next re-linearisation.
    /// </summary>
    public double Step(MlpNetwork network, ParameterOptimizer optimizer, RowSet batch, bool batchIsFixed)
    {
        if (_anchor is null || (_interval > 0 && _steps % _interval == 0))
            Relinearize(network.GetParameters());
        _steps++;
        if (batchIsFixed)
            CacheBatch(batch);

        using var scope = torch.NewDisposeScope();
        var (jacobian, anchorOutputs) = AnchorJacobian(batch);
        Tensor theta = torch.cat(FlatParameters(network), 0);
        return MseStep.Descend(anchorOutputs.Plus(jacobian.mv(theta - _anchorFlat!)), optimizer, batch);
    }

    /// <summary>
    /// The linearised network's predictions f(x; θ_k) + J(θ_k)(θ − θ_k) for the rows of <paramref name="features"/>
    /// (standardised, rows×d), in blocks of rows; a new array.
    /// </summary>
    public static double[] Predict(KareNetworkArchitecture architecture, double[] anchorParameters, double[] parameters, Tensor features)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        using var anchor = MlpNetwork.FromParameters(architecture, anchorParameters);
        Tensor step = torch.tensor(parameters, ScalarType.Float64) - torch.tensor(anchorParameters, ScalarType.Float64);
        long rows = features.shape[0];
        var predictions = new double[rows];
        const int BlockRows = 1024;
        for (long start = 0; start < rows; start += BlockRows)
        {
            using var blockScope = torch.NewDisposeScope();
            long length = Math.Min(BlockRows, rows - start);
            NetworkFeatures block = anchor.Features(features.narrow(0, start, length));
            Tensor values = block.Outputs.Plus(StructuredNtk.JacobianRows(block).mv(step));
            values.contiguous().data<double>().ToArray().CopyTo(predictions, start);
        }
        return predictions;
    }

    public void Dispose()
    {
        ClearCache();
        _anchor?.Dispose();
        _anchorFlat?.Dispose();
    }

    /// <summary>J(θ_k) (batch×P) and f(θ_k) of the batch, from the cache when the batch is the cached full batch.</summary>
    private (Tensor Jacobian, Tensor Outputs) AnchorJacobian(RowSet batch)
    {
        if (ReferenceEquals(batch, _cachedRows))
            return (_cachedJacobian!, _cachedOutputs!);
        Tensor jacobian;
        Tensor outputs;
        using (torch.no_grad())
        using (var scope = torch.NewDisposeScope())
        {
            NetworkFeatures features = _anchor!.Features(batch.Features);
            jacobian = StructuredNtk.JacobianRows(features);
            outputs = features.Outputs;
            jacobian.MoveToOuterDisposeScope();
            outputs.MoveToOuterDisposeScope();
        }
        return (jacobian, outputs);
    }

    /// <summary>Keeps J(θ_k) of <paramref name="batch"/> until the next re-linearisation (for a fixed full batch).</summary>
    private void CacheBatch(RowSet batch)
    {
        if (_anchor is null || ReferenceEquals(batch, _cachedRows))
            return;
        ClearCache();
        using (torch.no_grad())
        using (var scope = torch.NewDisposeScope())
        {
            NetworkFeatures features = _anchor.Features(batch.Features);
            _cachedJacobian = StructuredNtk.JacobianRows(features).DetachFromDisposeScope();
            _cachedOutputs = features.Outputs.DetachFromDisposeScope();
        }
        _cachedRows = batch;
    }

    private void ClearCache()
    {
        _cachedJacobian?.Dispose();
        _cachedOutputs?.Dispose();
        _cachedJacobian = null;
        _cachedOutputs = null;
        _cachedRows = null;
    }

    private static Tensor[] FlatParameters(MlpNetwork network)
    {
        var flat = new Tensor[network.Parameters.Count];
        for (int i = 0; i < flat.Length; i++)
            flat[i] = network.Parameters[i].reshape(-1);
        return flat;
    }
}
