using System.Collections.Generic;
using System.Diagnostics;
using System;
using MathNet.Numerics.Distributions;
using Microsoft.ML.Kare.LibTorch;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.Solvers;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Training;

/// <summary>Everything <see cref="MeanFieldTwoTimescale.Fit"/> needs (docs/maths.md, "Mean-field two-timescale").</summary>
internal sealed record MeanFieldSettings
{
    /// <summary>Number of particles m (hidden units) of the first layer.</summary>
    public int ParticleCount { get; init; } = 1000;

    /// <summary>Number of Langevin steps T of the first layer.</summary>
    public int StepCount { get; init; } = 2000;

    /// <summary>Step η of the mean-field Langevin dynamics.</summary>
    public double StepSize { get; init; } = 0.2;

    /// <summary>Temperature λ: each step adds √(2λη)·ξ, ξ ~ N(0, I), to every particle. 0 is noiseless gradient descent.</summary>
    public double Temperature { get; init; } = 0.004;

    /// <summary>Weight decay λ_w of the first layer (the Gaussian prior of the entropy-regularised objective).</summary>
    public double FirstLayerWeightDecay { get; init; } = 0.25;

    /// <summary>Ridge λ_a of the second layer: the kernel ridge regression f̂ = K(K + nλ_a I)⁻¹y with K = ΨΨᵀ/m.</summary>
    public double SecondLayerRidge { get; init; } = 0.25;

    /// <summary>Standard deviation (standardised label units) of fresh Gaussian noise added to the targets at every step; 0 for none.</summary>
    public double LabelNoise { get; init; }

    public KareActivation Activation { get; init; } = KareActivation.Tanh;

    public int Seed { get; init; }

    /// <summary>Number of threads libtorch may use; 0 = its default.</summary>
    public int ThreadCount { get; init; }

    /// <summary>Number of points of the training curve (and progress reports), spread evenly over the steps.</summary>
    public int CurvePointCount { get; init; } = 100;
}

/// <summary>
/// The mean-field two-timescale regression of Takakura and Suzuki (docs/maths.md, "Mean-field two-timescale"): a two-layer network
/// f(x) = (1/m)·Σ_j a_j σ(w_j·x̃), x̃ = (x, 1), whose second layer a is solved exactly by ridge regression at every step
/// (the fast timescale) while the particles w_j move by mean-field Langevin dynamics (the slow timescale),
/// w ← w − η(∇_w δG/δμ(w) + λ_w w) + √(2λη)·ξ.
/// </summary>
/// <remarks>
/// Objective (docs/maths.md, "Mean-field two-timescale"; the entropy term λ·Ent(μ) of the theory is realised by the noise and not evaluated):
/// J(a, W) = (1/2n)·Σ_i (f(x_i) − y_i)² + (λ_a/2m)·Σ_j a_j² + (λ_w/2m)·Σ_j ‖w_j‖², and G(W) = min_a J(a, W).
/// The ½ and 1/m factors are the mean-field ones (‖a‖²_{L²(μ)} and E_μ‖w‖² under the empirical measure μ of the
/// particles), chosen so that the fast timescale is exactly kernel ridge regression in docs/maths.md, "Kernel ridge regression"'s convention
/// f̂ = K(K + nλ_a I)⁻¹y with the mean-field kernel K = ΨΨᵀ/m, Ψ_ij = σ(w_j·x̃_i). Everything runs in float64 on
/// standardised features and labels, so the paper's hyperparameters (unit-variance target x1·x2) carry over.
/// </remarks>
internal static class MeanFieldTwoTimescale
{
    /// <summary>
    /// Trains on the rows (which must already be free of missing values). Reports <see cref="MeanFieldSettings.CurvePointCount"/>
    /// evenly spaced points of the training curve to <paramref name="monitor"/>, checks it for cancellation every step,
    /// and throws <see cref="ArithmeticException"/> when the dynamics diverge.
    /// </summary>
    public static MeanFieldFitResult Fit(KareTrainingData data, MeanFieldSettings settings, ITrainingMonitor<MeanFieldStepSummary> monitor)
    {
        CheckArguments(data, settings, monitor);
        int n = data.RowCount;
        int d = data.FeatureCount;
        int m = settings.ParticleCount;
        using var fitScope = TorchRuntime.BeginFit(settings.ThreadCount, monitor.CheckAlive, monitor.Info);

        var stopwatch = Stopwatch.StartNew();
        var (featureMeans, featureScales) = Standardization.ColumnStatistics(data.Features, n, d, weights: null);
        var (labelMeans, labelScales) = Standardization.ColumnStatistics(data.Targets, n, 1, weights: null);
        double[] features = Standardization.Apply(data.Features, n, d, featureMeans, featureScales);
        double[] labels = Standardization.Apply(data.Targets, n, 1, labelMeans, labelScales);

        var random = new Random(settings.Seed);
        using var inputs = AugmentedInputs(features, n, d);
        using var targets = torch.tensor(labels, ScalarType.Float64);
        using var firstLayer = InitialParticles(m, d, random);
        monitor.Info($"Mean-field two-timescale: {m} particles on {d} features (+ bias), {settings.Activation}, {n} rows, {settings.StepCount} steps; "
            + (n <= m ? $"second layer solved in kernel space ({n}×{n})." : $"second layer solved in parameter space ({m}×{m})."));

        var curve = new List<MeanFieldStepSummary>(settings.CurvePointCount + 1);
        RunDynamics(inputs, targets, firstLayer, n, d, m, random, settings, monitor, curve);
        var (finalFirstLayer, finalSecondLayer) = FinalLayers(inputs, targets, firstLayer, m, settings, monitor, curve);
        monitor.Info($"Mean-field two-timescale: objective {curve[0].Objective:G5} → {curve[^1].Objective:G5}, training MSE (standardised) "
            + $"{curve[0].TrainingError:G4} → {curve[^1].TrainingError:G4} in {stopwatch.Elapsed.TotalSeconds:F1} s.");

        return new MeanFieldFitResult
        {
            InputCount = d,
            ParticleCount = m,
            Activation = settings.Activation,
            FirstLayer = finalFirstLayer,
            SecondLayer = finalSecondLayer,
            FeatureMeans = featureMeans,
            FeatureScales = featureScales,
            LabelMean = labelMeans[0],
            LabelScale = labelScales[0],
            TrainingCurve = curve,
        };
    }

    private static void CheckArguments(KareTrainingData data, MeanFieldSettings settings, ITrainingMonitor<MeanFieldStepSummary> monitor)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(monitor);
        if (data.TargetCount != 1)
            throw new ArgumentException("The mean-field trainer fits one target.", nameof(data));
        if (data.Weights is not null)
            throw new ArgumentException("The mean-field trainer does not take example weights.", nameof(data));
        if (data.RowCount < 2)
            throw new ArgumentException($"The mean-field trainer needs at least 2 training rows, got {data.RowCount}.", nameof(data));
    }

    /// <summary>
    /// The <see cref="MeanFieldSettings.StepCount"/> steps of the dynamics, in place on the particles W (m×(d+1)) of the
    /// n rows: each step solves the second layer and moves the particles; every interval-th step adds a point to
    /// <paramref name="curve"/> and reports it. Checks for cancellation every step; throws when the particles diverge.
    /// </summary>
    private static void RunDynamics(Tensor inputs, Tensor targets, Tensor firstLayer, int n, int d, int m, Random random, MeanFieldSettings settings,
        ITrainingMonitor<MeanFieldStepSummary> monitor, List<MeanFieldStepSummary> curve)
    {
        int interval = Math.Max(1, settings.StepCount / Math.Max(1, settings.CurvePointCount));
        double noiseScale = Math.Sqrt(2 * settings.Temperature * settings.StepSize);
        var particleNoise = new double[m * (d + 1)];
        var labelNoise = settings.LabelNoise > 0 ? new double[n] : null;

        for (int step = 0; step < settings.StepCount; step++)
        {
            monitor.CheckAlive();
            using var scope = torch.NewDisposeScope();
            Tensor stepTargets = targets;
            if (labelNoise is not null)
            {
                Normal.Samples(random, labelNoise, 0, settings.LabelNoise);
                stepTargets = targets.Plus(torch.tensor(labelNoise, ScalarType.Float64));
            }
            var (hidden, slope) = TorchActivations.Apply(settings.Activation, inputs.mm(firstLayer.t()));
            Tensor secondLayer = SecondLayer(hidden, stepTargets, settings.SecondLayerRidge);
            Tensor residual = hidden.mv(secondLayer).DivideInPlace(m).sub_(stepTargets);

            if (step % interval == 0)
            {
                // The curve reports the noise-free objective G(W_t) = min_a J(a, W_t): with label noise the step's own
                // second layer was fitted to noisy targets, so solve again on the clean ones.
                var point = labelNoise is null
                    ? Summary(step, residual, secondLayer, firstLayer, settings)
                    : CleanSummary(step, hidden, targets, firstLayer, settings);
                CheckFinite(point, settings);
                curve.Add(point);
                monitor.Report(point, settings.StepCount);
            }

            Tensor gradient = FirstVariationGradient(inputs, slope, secondLayer, residual);
            Normal.Samples(random, particleNoise, 0, 1);
            LangevinUpdate(firstLayer, gradient, torch.tensor(particleNoise, new long[] { m, d + 1 }, ScalarType.Float64), settings.StepSize,
                settings.FirstLayerWeightDecay, noiseScale);
            if (!torch.isfinite(firstLayer).all().item<bool>())
                throw Diverged(step + 1, settings);
        }
    }

    /// <summary>
    /// The trained model: the second layer solved on the clean targets at the final particles, the last point of the
    /// curve (added and reported), and both layers as arrays.
    /// </summary>
    private static (double[] FirstLayer, double[] SecondLayer) FinalLayers(Tensor inputs, Tensor targets, Tensor firstLayer, int m, MeanFieldSettings settings,
        ITrainingMonitor<MeanFieldStepSummary> monitor, List<MeanFieldStepSummary> curve)
    {
        using var scope = torch.NewDisposeScope();
        Tensor hidden = TorchActivations.Apply(settings.Activation, inputs.mm(firstLayer.t())).Value;
        Tensor secondLayer = SecondLayer(hidden, targets, settings.SecondLayerRidge);
        Tensor residual = hidden.mv(secondLayer).DivideInPlace(m).sub_(targets);
        var point = Summary(settings.StepCount, residual, secondLayer, firstLayer, settings);
        CheckFinite(point, settings);
        curve.Add(point);
        monitor.Report(point, settings.StepCount);
        double[] finalSecondLayer = secondLayer.contiguous().data<double>().ToArray();
        double[] finalFirstLayer = firstLayer.contiguous().data<double>().ToArray(); // in the scope: contiguous() is a new handle
        return (finalFirstLayer, finalSecondLayer);
    }

    /// <summary>X̃ = (X, 1): the standardised n×d features with a column of ones for the particles' biases, as an n×(d+1) tensor.</summary>
    internal static Tensor AugmentedInputs(double[] features, int rows, int columns)
    {
        var values = new double[(long)rows * (columns + 1)];
        for (int i = 0; i < rows; i++)
        {
            Array.Copy(features, (long)i * columns, values, (long)i * (columns + 1), columns);
            values[(long)i * (columns + 1) + columns] = 1.0;
        }
        return torch.tensor(values, new long[] { rows, columns + 1 }, ScalarType.Float64);
    }

    /// <summary>
    /// Initial particles w_j ~ N(0, I/(d+1)), m×(d+1): on standardised inputs every pre-activation w_j·x̃ then has
    /// variance about 1, so σ starts neither saturated nor linear (LeCun-style scaling; the paper's initial
    /// distribution is not stated).
    /// </summary>
    internal static Tensor InitialParticles(int particleCount, int featureCount, Random random)
    {
        var values = new double[particleCount * (featureCount + 1)];
        Normal.Samples(random, values, 0, 1.0 / Math.Sqrt(featureCount + 1));
        return torch.tensor(values, new long[] { particleCount, featureCount + 1 }, ScalarType.Float64);
    }

    /// <summary>
    /// The fast timescale (docs/maths.md, "Mean-field two-timescale"): the exact minimiser a (length m) of
    /// J(a) = (1/2n)‖Ψa/m − y‖² + (λ_a/2m)‖a‖² for hidden activations Ψ (n×m) and targets y (n).
    /// Its normal equations (ΨᵀΨ + n·mλ_a I) a = Ψᵀ(m·y) are ridge regression on the features Ψ with the absolute ridge
    /// mλ_a, solved in parameter space (<see cref="ParameterSpaceRidge"/>) when n &gt; m; otherwise in kernel space,
    /// a = Ψᵀα with α = (K + nλ_a I)⁻¹y and K = ΨΨᵀ/m (the same a: push-through identity), by
    /// <see cref="KernelRidge.DualWeights"/>. Either way the training predictions Ψa/m are KRR with kernel K.
    /// </summary>
    internal static Tensor SecondLayer(Tensor hidden, Tensor targets, double ridge)
    {
        long n = hidden.shape[0];
        long m = hidden.shape[1];
        using var scope = torch.NewDisposeScope();
        Tensor a;
        if (n <= m)
        {
            Tensor kernel = hidden.mm(hidden.t()).DivideInPlace(m);
            Tensor dual = KernelRidge.DualWeights(kernel, targets.unsqueeze(1), ridge);
            a = hidden.t().mm(dual).squeeze(1);
        }
        else
        {
            using var solver = new ParameterSpaceRidge(m, 1);
            solver.Accumulate(hidden, targets.unsqueeze(1).Times(m));
            a = solver.SolveAbsolute(m * ridge).squeeze(1);
        }
        return a.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The objective J(a, W) = (1/2n)‖r‖² + (λ_a/2m)‖a‖² + (λ_w/2m)‖W‖²_F (docs/maths.md, "Mean-field two-timescale") for the residual r = Ψa/m − y.
    /// </summary>
    internal static double Objective(Tensor residual, Tensor secondLayer, Tensor firstLayer, double secondLayerRidge, double firstLayerWeightDecay)
    {
        long n = residual.shape[0];
        long m = secondLayer.shape[0];
        double loss = residual.Squared().sum().item<double>() / (2.0 * n);
        double secondPenalty = secondLayer.Squared().sum().item<double>() * secondLayerRidge / (2.0 * m);
        double firstPenalty = firstLayer.Squared().sum().item<double>() * firstLayerWeightDecay / (2.0 * m);
        return loss + secondPenalty + firstPenalty;
    }

    /// <summary>
    /// The slow timescale's force (docs/maths.md, "Mean-field two-timescale"): ∇_w δG/δμ at each particle, m×(d+1),
    /// g_j = a_j·(1/n)·Σ_i r_i σ′(w_j·x̃_i) x̃_i, with a the optimal second layer and r = Ψa/m − y its residual.
    /// By the envelope theorem the dependence of the optimal a on W contributes nothing, so g_j = m·∂J/∂w_j at fixed a;
    /// the factor m is the mean-field scaling (each particle carries mass 1/m). Weight decay is added by the update.
    /// </summary>
    /// <param name="inputs">X̃, n×(d+1).</param>
    /// <param name="slope">σ′(X̃Wᵀ), n×m.</param>
    /// <param name="secondLayer">a, length m.</param>
    /// <param name="residual">r, length n.</param>
    internal static Tensor FirstVariationGradient(Tensor inputs, Tensor slope, Tensor secondLayer, Tensor residual)
    {
        long n = inputs.shape[0];
        using var scope = torch.NewDisposeScope();
        Tensor weighted = slope * residual.unsqueeze(1);
        return weighted.t().mm(inputs).mul_(secondLayer.unsqueeze(1)).DivideInPlace(n).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One mean-field Langevin step, in place on W (m×(d+1)): W ← W − η(g + λ_w W) + c·ξ with c = √(2λη) (docs/maths.md, "Mean-field two-timescale").
    /// </summary>
    internal static void LangevinUpdate(Tensor firstLayer, Tensor gradient, Tensor standardNoise, double stepSize, double weightDecay, double noiseScale)
    {
        firstLayer.MultiplyInPlace(1.0 - stepSize * weightDecay).AddScaledInPlace(gradient, -stepSize);
        if (noiseScale > 0)
            firstLayer.AddScaledInPlace(standardNoise, noiseScale);
    }

    /// <summary>G(W) = min_a J(a, W) for the hidden activations Ψ (n×m) of W, solving the second layer on the targets.</summary>
    internal static double OptimalObjective(Tensor hidden, Tensor targets, Tensor firstLayer, double secondLayerRidge, double firstLayerWeightDecay)
    {
        using var scope = torch.NewDisposeScope();
        Tensor a = SecondLayer(hidden, targets, secondLayerRidge);
        Tensor residual = hidden.mv(a).DivideInPlace(hidden.shape[1]).sub_(targets);
        return Objective(residual, a, firstLayer, secondLayerRidge, firstLayerWeightDecay);
    }

    private static MeanFieldStepSummary Summary(int step, Tensor residual, Tensor secondLayer, Tensor firstLayer, MeanFieldSettings settings)
        => new(step, Objective(residual, secondLayer, firstLayer, settings.SecondLayerRidge, settings.FirstLayerWeightDecay),
            residual.Squared().mean().item<double>());

    private static MeanFieldStepSummary CleanSummary(int step, Tensor hidden, Tensor targets, Tensor firstLayer, MeanFieldSettings settings)
    {
        using var scope = torch.NewDisposeScope();
        Tensor a = SecondLayer(hidden, targets, settings.SecondLayerRidge);
        Tensor residual = hidden.mv(a).DivideInPlace(hidden.shape[1]).sub_(targets);
        return Summary(step, residual, a, firstLayer, settings);
    }

    private static void CheckFinite(MeanFieldStepSummary point, MeanFieldSettings settings)
    {
        if (!double.IsFinite(point.Objective))
            throw Diverged(point.Step, settings);
    }

    private static ArithmeticException Diverged(int step, MeanFieldSettings settings)
        => new($"The mean-field Langevin dynamics diverged at step {step} (step size {settings.StepSize}, temperature {settings.Temperature}): "
            + "the particles or the objective are no longer finite. Use a smaller StepSize or a larger FirstLayerWeightDecay.");
}
