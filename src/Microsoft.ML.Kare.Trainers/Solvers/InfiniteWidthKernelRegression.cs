using System.Collections.Generic;
using System.Linq;
using System;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Solvers;

/// <summary>
/// Regression with a fixed kernel given as an array (the infinite-width NTK Θ): kernel ridge regression with λ̃ chosen by
/// generalised cross-validation, or the gradient-flow prediction at a finite training time.
/// </summary>
internal static class InfiniteWidthKernelRegression
{
    /// <summary>
    /// Dual weights α (length n) for the kernel Θ (row-major n×n) and standardised targets y (length n), with optional row
    /// weights w (mean 1) entering as S Θ S and S y, S = diag(√w), and α = S α_w. An infinite <paramref name="trainingTime"/>
    /// is kernel ridge regression with λ̃ chosen from <paramref name="ridgeGrid"/> by GCV (<see cref="SpectralRidgePath"/>);
    /// a finite one is gradient flow to that time (<see cref="GradientFlowKernelRegression"/>), with no ridge.
    /// </summary>
    /// <param name="kernel">Θ, row-major n×n.</param>
    /// <param name="targets">Standardised targets, length n.</param>
    /// <param name="weights">Row weights (mean 1), or null.</param>
    /// <param name="n">Rows.</param>
    /// <param name="trainingTime">t; +∞ for kernel ridge regression.</param>
    /// <param name="learningRate">η of the gradient flow.</param>
    /// <param name="ridgeGrid">The λ̃ GCV chooses from.</param>
    /// <param name="leaveOneOut">With t = +∞, also return the exact leave-one-out predictions (prediction intervals).</param>
    /// <param name="checkAlive">Throws when the fit is cancelled; called between and during the long factorisations.</param>
    public static Solution Solve(double[] kernel, double[] targets, double[]? weights, int n, double trainingTime, double learningRate,
        IReadOnlyList<double> ridgeGrid, Action checkAlive, bool leaveOneOut = false)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        Tensor k = torch.tensor(kernel, new long[] { n, n }, ScalarType.Float64);
        Tensor y = torch.tensor(targets, new long[] { n, 1 }, ScalarType.Float64);
        Tensor? scales = weights is null ? null : torch.tensor(weights, ScalarType.Float64).sqrt().unsqueeze(1);
        if (scales is not null)
        {
            k = k * scales * scales.t();
            y = y * scales;
        }

        double relativeRidge = 0, ridge = 0, gcv = double.NaN;
        Tensor alpha;
        double[]? looPredictions = null;
        if (double.IsPositiveInfinity(trainingTime))
        {
            using var path = new SpectralRidgePath(k, y, checkAlive);
            checkAlive();
            double[] values = path.GeneralizedCrossValidation(ridgeGrid);
            int best = RidgeGrid.ArgMin(values);
            relativeRidge = ridgeGrid[best];
            ridge = path.AbsoluteRidge(relativeRidge);
            gcv = values[best];
            if (leaveOneOut)
            {
                Tensor unweighted = torch.tensor(targets, new long[] { n, 1 }, ScalarType.Float64);
                Tensor? w = weights is null ? null : torch.tensor(weights, ScalarType.Float64);
                (alpha, Tensor loo) = KernelRidge.DualWeightsAndLeaveOneOut(k, unweighted, y, w, ridge, checkAlive);
                looPredictions = loo.contiguous().data<double>().ToArray();
            }
            else
            {
                alpha = KernelRidge.DualWeights(k, y, ridge, checkAlive);
            }
        }
        else
        {
            alpha = GradientFlowKernelRegression.DualWeights(k, y, learningRate, trainingTime, checkAlive);
        }
        checkAlive();
        double trainingError = (k.mm(alpha) - y).Squared().mean().item<double>();
        if (scales is not null)
            alpha = alpha * scales;
        double[] dual = alpha.contiguous().data<double>().ToArray();
        if (dual.Any(v => !double.IsFinite(v)))
            throw new ArithmeticException("The infinite-width NTK regression produced non-finite dual weights: the kernel is numerically singular or overflows. "
                + "Use fewer hidden layers, a smaller WeightStandardDeviation, or a larger ridge grid.");
        return new Solution(dual, relativeRidge, ridge, gcv, trainingError) { LeaveOneOutPredictions = looPredictions };
    }

    /// <summary>The dual weights and how they were chosen.</summary>
    /// <param name="DualWeights">α, length n, such that the standardised prediction is Θ(x, X)α.</param>
    /// <param name="RelativeRidge">λ̃ (0 for a finite training time).</param>
    /// <param name="Ridge">λ = λ̃·Tr(SΘS)/n² (0 for a finite training time).</param>
    /// <param name="GeneralizedCrossValidation">GCV at the chosen λ̃ (NaN for a finite training time).</param>
    /// <param name="TrainingError">Mean squared (weighted) residual on the training rows, standardised units.</param>
    public sealed record Solution(double[] DualWeights, double RelativeRidge, double Ridge, double GeneralizedCrossValidation, double TrainingError)
    {
        /// <summary>Exact leave-one-out predictions (standardised units; NaN for rows of weight 0) when asked for; else null.</summary>
        public double[]? LeaveOneOutPredictions { get; init; }
    }
}
