using System.Collections.Generic;

namespace Microsoft.ML.Kare.Training;

/// <summary>Everything the backend needs to train a KARE kernel and fit the final kernel ridge regression.</summary>
internal sealed record KareFitSettings
{
    public KareMethod Method { get; init; } = KareMethod.Kare;
    public required IReadOnlyList<int> HiddenWidths { get; init; }
    public KareActivation Activation { get; init; } = KareActivation.Gelu;
    public int Epochs { get; init; } = 100;
    public double LearningRate { get; init; } = 100;
    public KareOptimizer Optimizer { get; init; } = KareOptimizer.Sgd;

    /// <summary>Step size when the network is trained by mean squared error (the methods other than KARE).</summary>
    public double MeanSquaredErrorLearningRate { get; init; } = 0.1;

    /// <summary>Optimiser steps between re-linearisations (iterative linearisation); 0 = never.</summary>
    public int RelinearizationInterval { get; init; } = 10;

    /// <summary>Rows per KARE step; 0 = full batch.</summary>
    public int BatchSize { get; init; }

    /// <summary>Relative ridge z of the KARE objective during training: λ = z·Tr(K)/n².</summary>
    public double TrainingRelativeRidge { get; init; } = 0.1;

    /// <summary>
    /// 0: the exact KARE gradient. m &gt; 0: on the kernel path, the stochastic gradient with m Hutchinson probes for A²
    /// (<see cref="KareStepEngine.StochasticProbes"/>); steps in parameter space are always exact. null: <see cref="FitPlan.Probes"/> decides (exact for kernel-path
    /// full batches of up to <see cref="FitPlan.ExactGradientMaximumRows"/> rows and in parameter space,
    /// <see cref="FitPlan.AutomaticStochasticProbes"/> probes otherwise).
    /// </summary>
    public int? StochasticProbes { get; init; }

    /// <summary>Relative ridges λ̃ tried by the final fit (λ = λ̃·Tr(K)/n²).</summary>
    public required IReadOnlyList<double> RelativeRidgeGrid { get; init; }

    public KareRidgeSelection RidgeSelection { get; init; } = KareRidgeSelection.HoldOut;

    /// <summary>Epochs between held-out measurements after the first ones; 0 = automatic (<see cref="ValidationSchedule.IsDue"/>).</summary>
    public int ValidationInterval { get; init; }

    /// <summary>
    /// Stop after this many epochs without improvement (held-out error, or a training-objective plateau); 0 = never;
    /// null = automatic (<see cref="EpochSelector.AutomaticPatience"/>).
    /// </summary>
    public int? EarlyStoppingPatience { get; init; } = 0;

    /// <summary>Fraction of rows held out when <see cref="RidgeSelection"/> is HoldOut.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>
    /// Without cross-validation: at most this many rows train the network (the first fit rows of the random order) and
    /// at most this many are held out; the rest serve the final ridge regression only. 0 = no limit.
    /// </summary>
    public int MaximumKernelTrainingRows { get; init; }

    /// <summary>Compress heavy-tailed feature columns before standardising them (<see cref="SkewedFeatures"/>).</summary>
    public bool CompressSkewedFeatures { get; init; }

    /// <summary>Normal scores appended to the features (<see cref="NormalScoreColumns"/>).</summary>
    public bool AppendNormalScores { get; init; }

    /// <summary>Two-valued feature columns divided by half their range, not their standard deviation (<see cref="Standardization.FeatureStatistics"/>).</summary>
    public bool ScaleIndicatorsByRange { get; init; }

    /// <summary>The inputs multiplied by their relevance weights (<see cref="InputRelevance"/>), folded into the feature scales.</summary>
    public KareRelevanceWeighting RelevanceWeighting { get; init; } = KareRelevanceWeighting.None;

    /// <summary>Store the training range of the standardised inputs, which the model clips a scored row's inputs to (<see cref="Scoring.InputRange"/>).</summary>
    public bool ClipInputsToTrainingRange { get; init; }

    /// <summary>The kernel-path KARE step's n×n algebra in float32 (<see cref="KareStepEngine.Precision"/>).</summary>
    public bool SinglePrecisionTraining { get; init; }

    /// <summary>Folds k when <see cref="RidgeSelection"/> is CrossValidation.</summary>
    public int Folds { get; init; } = 5;

    /// <summary>Cross-validation's model: the average of the fold networks (true) or a network trained on all rows (false).</summary>
    public bool FoldEnsemble { get; init; } = true;

    public int Seed { get; init; }

    /// <summary>Number of threads libtorch may use; 0 = its default.</summary>
    public int ThreadCount { get; init; }

    /// <summary>Also return the final fit's exact leave-one-out predictions (classifiers calibrate on them).</summary>
    public bool ComputeLeaveOneOutPredictions { get; init; }

    /// <summary>
    /// Coverage of the regression's prediction intervals, between 0 and 1; 0 computes none. Without cross-validation the
    /// fit keeps <see cref="FitPlan.CalibrationRows"/> rows out of training and selection to calibrate them.
    /// </summary>
    public double IntervalCoverage { get; init; }

    /// <summary>Training refuses to start when its estimated peak memory (<see cref="KareMemoryEstimate"/>) exceeds this many bytes.</summary>
    public long MemoryBudgetBytes { get; init; } = long.MaxValue;

    /// <summary>Where KARE steps (null: the cheaper, see <see cref="FitPlan"/>).</summary>
    public TrainingSpace? StepSpace { get; init; }

    /// <summary>Where the held-out error is measured (null: the cheaper).</summary>
    public TrainingSpace? HeldOutSpace { get; init; }

    /// <summary>
    /// Above this many rows the final fit is solved in parameter space (P×P) instead of kernel space (n×n).
    /// </summary>
    public int MaximumKernelRows { get; init; } = FitPlan.DefaultMaximumKernelRows;
}
