using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// Ordinary training of the network's own output by weighted mean squared error, the baseline of the KARE paper
/// ("DNN", and the network whose kernel "after-kernel" uses).
/// </summary>
internal static class MseStep
{
    /// <summary>One step on Σ w_i (f(x_i) − y_i)² / Σ w_i (single output); returns the loss before the update.</summary>
    public static double Run(MlpNetwork network, ParameterOptimizer optimizer, RowSet batch)
    {
        using var scope = torch.NewDisposeScope();
        return Descend(network.Features(batch.Features).Outputs, optimizer, batch);
    }

    /// <summary>
    /// One optimiser step on Σ w_i (outputs_i − y_i)² / Σ w_i for <paramref name="outputs"/> with autograd history (the
    /// network's own, or its linearisation's); returns the loss before the update, and makes no update when it is not
    /// finite. Temporaries go to the caller's dispose scope.
    /// </summary>
    internal static double Descend(Tensor outputs, ParameterOptimizer optimizer, RowSet batch)
    {
        Tensor squared = (outputs - batch.Targets.select(1, 0)).Squared();
        Tensor loss = batch.Weights is null ? squared.mean() : (squared * batch.Weights).sum() / batch.Weights.sum();
        double value = loss.item<double>();
        if (!double.IsFinite(value))
            return value;
        loss.backward();
        optimizer.Step();
        return value;
    }

    /// <summary>The network's own predictions f(x) for the rows (no autograd), as a new array.</summary>
    public static double[] Predict(MlpNetwork network, Tensor features)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        return network.Features(features).Outputs.contiguous().data<double>().ToArray();
    }
}
