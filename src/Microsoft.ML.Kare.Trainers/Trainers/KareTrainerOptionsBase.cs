using System.Linq;
using System.Threading;
using System;
using Microsoft.ML.Trainers;

namespace Microsoft.ML.Kare;

/// <summary>
/// Options shared by the KARE trainers (<see cref="KareRegressionTrainer"/>, <see cref="KareBinaryTrainer"/> and
/// <see cref="KareMulticlassTrainer"/>): the network whose kernel is trained, the KARE training loop, and how the final
/// kernel ridge regression chooses its ridge.
/// </summary>
public abstract class KareTrainerOptionsBase : TrainerInputBaseWithWeight
{
    private protected KareTrainerOptionsBase()
    {
    }

    /// <summary>
    /// How the network is trained and how the model predicts: <see cref="KareMethod.Kare"/> (the default), or one of the
    /// methods KARE is compared with (after-kernel, the network itself, the NTK at initialisation, iterative linearisation).
    /// </summary>
    public KareMethod Method = KareTrainerDefaults.Method;

    /// <summary>
    /// Width of each hidden layer of the network whose kernel is trained, input side first. At least one layer.
    /// </summary>
    public int[] HiddenLayerWidths = KareTrainerDefaults.CreateHiddenLayerWidths();

    /// <summary>The nonlinearity after each hidden layer.</summary>
    public KareActivation Activation = KareTrainerDefaults.Activation;

    /// <summary>Number of passes of KARE training over the training rows. 0 uses the kernel of the network at initialisation.</summary>
    public int NumberOfEpochs = KareTrainerDefaults.NumberOfEpochs;

    /// <summary>
    /// Step size of the optimiser that minimises KARE. The default 20 is plain gradient descent's step on standardised
    /// targets; it equals the KARE paper's step of 100 on its unstandardised simulation targets (variance ≈ 0.2).
    /// </summary>
    public double LearningRate = KareTrainerDefaults.LearningRate;

    /// <summary>The optimiser that minimises KARE (and, for the other methods, the mean squared error).</summary>
    public KareOptimizer Optimizer = KareTrainerDefaults.Optimizer;

    /// <summary>
    /// Step size of the optimiser when the network is trained by mean squared error (<see cref="KareMethod.AfterKernel"/>,
    /// <see cref="KareMethod.NeuralNetwork"/> and the iterative linearisation methods), on standardised targets.
    /// The default 0.1 with plain gradient descent is the KARE paper's baseline.
    /// </summary>
    public double MeanSquaredErrorLearningRate = KareTrainerDefaults.MeanSquaredErrorLearningRate;

    /// <summary>
    /// For the iterative linearisation methods: the number of optimiser steps between re-linearisations of the network.
    /// 1 is ordinary training; 0 never re-linearises (the linearised network of the initialisation is trained: "lazy" training).
    /// </summary>
    public int RelinearizationInterval = KareTrainerDefaults.RelinearizationInterval;

    /// <summary>
    /// Rows per KARE step. 0 (the default) uses all training rows in every step (full batch, as the paper does) up to
    /// 2048 rows, and mini-batches of 2048 rows above that.
    /// </summary>
    public int BatchSize = KareTrainerDefaults.BatchSize;

    /// <summary>
    /// Number of random probe vectors of the stochastic KARE gradient, which replaces the matrix A² of the exact gradient by
    /// an unbiased estimate (a cheaper solve per step). null (the default): the exact gradient for full batches of up to
    /// 1,024 rows, 64 probes for larger full batches and for mini-batches (more than 2,048 training rows, or
    /// <see cref="BatchSize"/> set); 0: always exact. Steps in parameter space are always exact.
    /// </summary>
    public int? StochasticGradientProbes;

    /// <summary>
    /// The relative ridge z of the KARE objective during training. It is relative to the kernel's size: the absolute
    /// ridge is λ = z·Tr(K)/n².
    /// </summary>
    public double TrainingRidge = KareTrainerDefaults.TrainingRidge;

    /// <summary>
    /// Relative ridges λ̃ tried by the final kernel ridge regression (absolute ridge λ = λ̃·Tr(K)/n²).
    /// The default is 36 values spaced logarithmically from 1e-6 to 10.
    /// </summary>
    public double[] RidgeGrid = KareTrainerDefaults.CreateRidgeGrid();

    /// <summary>
    /// How the final ridge (and, with held-out rows, the training epoch) is chosen from the training rows. The default,
    /// <see cref="KareRidgeSelection.Automatic"/>, cross-validates up to 1,000 training rows and holds out
    /// <see cref="ValidationFraction"/> of the rows above.
    /// </summary>
    public KareRidgeSelection RidgeSelection = KareTrainerDefaults.RidgeSelection;

    /// <summary>Fraction of the training rows held out to choose the ridge and epoch when <see cref="RidgeSelection"/> is <see cref="KareRidgeSelection.HoldOut"/>.</summary>
    public double ValidationFraction = KareTrainerDefaults.ValidationFraction;

    /// <summary>
    /// Whether heavy-tailed feature columns are compressed before they are standardised (the default, true): a column with
    /// more than two distinct values and skewness above 2 (counts, amounts, frequencies) enters the network as
    /// sign(x)·ln(1 + |x|/s), s the median of its non-zero magnitudes, so that a few extreme rows do not squeeze every
    /// other row into a narrow band of the standardised feature. The model stores the scales and applies the same map
    /// when it scores (<c>FeatureCompressionScales</c>). false: every feature is only standardised.
    /// </summary>
    public bool CompressSkewedFeatures = KareTrainerDefaults.CompressSkewedFeatures;

    /// <summary>
    /// Whether a feature column with exactly two values (an indicator, a one-hot category) is centred and divided by half
    /// the distance between its values instead of by its standard deviation: every indicator then spans 2, as a balanced
    /// one does when standardised, and a rare category (a standard deviation of √(p(1 − p)), 0.1 at p = 0.01) is not
    /// magnified into the row's dominant coordinate. Other columns are standardised either way. true (the default):
    /// measured on the public suite, 9 of the 14 data sets with such columns better and 5 worse (mean +0.0025 in R² or
    /// accuracy), and better on average with 100 and 200 training rows (README, "Indicator features").
    /// </summary>
    public bool ScaleIndicatorsByRange = KareTrainerDefaults.ScaleIndicatorsByRange;

    /// <summary>
    /// Whether a feature column with more than two values also enters the network as its normal score Φ⁻¹(F(x)), F the
    /// column's mid-rank empirical distribution function on the training rows (linear between training values, constant
    /// beyond them), when that score is not nearly a linear function of the column (correlation below 0.99: a Gaussian
    /// column's score is the column itself). The score ranks a row within the column whatever the column's scale,
    /// outliers or gaps, and the network uses the column, its score or both. The model stores each score's knots (at
    /// most about 256) and computes the scores when it scores a row (<c>NormalScoreColumns</c>). true (the default):
    /// measured on the public suite, better mean ranks in all three tasks (README, "Normal scores"); the paper
    /// simulation's Gaussian features get no score, so its fits are unchanged.
    /// </summary>
    public bool AppendNormalScores = KareTrainerDefaults.AppendNormalScores;

    /// <summary>
    /// Which standardised inputs are multiplied by a weight from a univariate relevance screen of the training rows (the
    /// rows held out to choose the epoch and ridge, or kept to calibrate intervals, take no part in it):
    /// w_j = √(0.25 + 0.75·r_j/r̄), r_j the input's correlation ratio with the label (the share of the label's variance
    /// explained by its mean in up to 10 bins of the input, adjusted for the bins' count) and r̄ its mean over the weighted
    /// inputs. Inputs that say little about the label enter the kernel with less weight, those that say much with more;
    /// the weights are folded into the model's feature scales. <see cref="KareRelevanceWeighting.Automatic"/> (the
    /// default) weights the indicator inputs (one-hot categories) above 1,000 training rows: measured on the public suite,
    /// dna 0.9505 → 0.9608, ames 0.8590 → 0.8673, hpc 0.8233 → 0.8311, and nothing else changed (README,
    /// "Relevance-weighted inputs").
    /// </summary>
    public KareRelevanceWeighting RelevanceWeighting = KareTrainerDefaults.RelevanceWeighting;

    /// <summary>
    /// Whether the model clips each standardised input of a scored row to the range it took over the training rows, as a
    /// tree's thresholds do, instead of extrapolating the network's kernel beyond every training row: a typo, a unit
    /// error or drift then scores like the nearest training extreme. The training rows lie inside the range, so the fit
    /// is the same either way; only rows outside it score differently. true (the default): on diamonds, three test rows
    /// beyond the training range (y = 58.9, z = 31.8) cost R² 0.009 without it (0.9720 against 0.9813) (README, "Inputs outside the training
    /// range"). false: the model extrapolates, and stores no range.
    /// </summary>
    public bool ClipInputsToTrainingRange = KareTrainerDefaults.ClipInputsToTrainingRange;

    /// <summary>
    /// Whether the n×n matrix algebra of each KARE training step on the kernel path (the kernel, its Cholesky solve,
    /// dρ/dK and its contraction with the network) runs in float32, 1.7–2× faster per step than float64 on a CPU (fits up
    /// to about 1,000 rows about 1.4–2× faster, larger ones less: their float64 held-out measurements remain). The
    /// network's parameters and their updates, the held-out measurements that choose the epoch and λ̃, the final kernel
    /// ridge regression and the model stay float64 either way. The training objective's matrix is well conditioned (its
    /// ridge is <see cref="TrainingRidge"/> times the kernel's mean eigenvalue), so float32 changes a step's gradient by
    /// about 1e-4 of its largest entry; over many steps that moves the trained network as any change of rounding does.
    /// false (the default): every step in float64. The README gives the accuracy measured both ways.
    /// </summary>
    public bool SinglePrecisionTraining = KareTrainerDefaults.SinglePrecisionTraining;

    /// <summary>
    /// Above this many training rows, without cross-validation, a random subset of this many rows trains the network's
    /// kernel (and at most this many are held out to choose the epoch and λ̃); the final kernel ridge regression still
    /// uses every row. Each exact step costs O(n·P²) (or O(n³) on the kernel path), so this bounds the cost of an epoch
    /// at large n. null (the default) is 4,096 rows; 0 trains on all rows.
    /// </summary>
    public int? MaximumKernelTrainingRows;

    /// <summary>
    /// Number of folds k when <see cref="RidgeSelection"/> is <see cref="KareRidgeSelection.CrossValidation"/>: k networks
    /// train, each holding out one fold, plus one on all rows. At least 2.
    /// </summary>
    public int NumberOfFolds = KareTrainerDefaults.NumberOfFolds;

    /// <summary>
    /// What cross-validation produces once it has chosen the epoch and λ̃: the average of the k fold networks
    /// (<see cref="KareCrossValidationModel.FoldEnsemble"/>) or one network trained on all rows
    /// (<see cref="KareCrossValidationModel.AllRowsRefit"/>).
    /// </summary>
    public KareCrossValidationModel CrossValidationModel = KareTrainerDefaults.CrossValidationModel;

    /// <summary>
    /// Stops training early after this many epochs without improvement; 0 trains for <see cref="NumberOfEpochs"/>. When
    /// held-out rows choose the epoch (hold-out or cross-validation) the held-out error must improve (and the best epoch
    /// is kept, as always); with generalised cross-validation the training objective must fall by a relative 0.1% (a
    /// plateau stops it). null (the default): 20 epochs for full-batch training with held-out rows, none with generalised
    /// cross-validation, and for mini-batches (more than 2,048 training rows on the kernel path, or <see cref="BatchSize"/>
    /// set) about 400 optimiser steps, at least 10 epochs, without improvement.
    /// </summary>
    public int? EarlyStoppingPatience;

    /// <summary>Seed of the network initialisation, the hold-out split and mini-batches; null takes one from the MLContext's random source.</summary>
    public int? Seed;

    /// <summary>
    /// Memory budget of training, in megabytes. Before training, the peak memory of the chosen path (rows per step, the
    /// held-out measurement, and the final fit in kernel or parameter space) is estimated; when it exceeds the budget,
    /// Fit throws <see cref="InsufficientMemoryException"/> naming what to change, instead of failing midway.
    /// null (the default) allows three quarters of the memory available to the process.
    /// </summary>
    public int? MaximumMemoryMegabytes;

    /// <summary>
    /// Number of threads libtorch may use for training (a process-wide libtorch setting, restored when the fit ends);
    /// null chooses: one thread for cross-validation (its fold networks then train side by side, one per core) or when a
    /// training step has at most 512 rows (small matrix operations do not repay waking other threads), libtorch's
    /// default otherwise.
    /// </summary>
    public int? NumberOfThreads;

    /// <summary>Receives a summary after every training epoch (KARE value, held-out error); null for none.</summary>
    public IProgress<KareEpochSummary>? Progress;

    /// <summary>
    /// Cancels training: Fit then throws <see cref="OperationCanceledException"/> within one training step.
    /// </summary>
    public CancellationToken CancellationToken;

    /// <summary>
    /// A copy of every field (those of ML.NET's base classes and any option added later included), with its own arrays,
    /// so that later changes to these options or their arrays do not reach the copy.
    /// </summary>
    internal KareTrainerOptionsBase Copy()
    {
        var copy = (KareTrainerOptionsBase)MemberwiseClone();
        copy.HiddenLayerWidths = HiddenLayerWidths?.ToArray()!;
        copy.RidgeGrid = RidgeGrid?.ToArray()!;
        return copy;
    }
}

/// <summary>Default values shared by the KARE trainers' options and the <see cref="Microsoft.ML.KareCatalog"/> overloads.</summary>
internal static class KareTrainerDefaults
{
    public const KareMethod Method = KareMethod.Kare;
    public const int HiddenLayerWidth = 64;
    public const KareActivation Activation = KareActivation.Gelu;
    public const int NumberOfEpochs = 100;
    public const double LearningRate = 20.0;
    public const KareOptimizer Optimizer = KareOptimizer.Sgd;
    public const double MeanSquaredErrorLearningRate = 0.1;
    public const int RelinearizationInterval = 10;
    public const int BatchSize = 0;
    public const double TrainingRidge = 0.1;
    public const KareRidgeSelection RidgeSelection = KareRidgeSelection.Automatic;
    public const double ValidationFraction = 0.2;
    public const bool CompressSkewedFeatures = true;
    public const bool ScaleIndicatorsByRange = true;
    public const bool AppendNormalScores = true;
    public const KareRelevanceWeighting RelevanceWeighting = KareRelevanceWeighting.Automatic;
    public const bool ClipInputsToTrainingRange = true;
    public const bool SinglePrecisionTraining = false;
    public const double PredictionIntervalCoverage = 0.9;
    public const int NumberOfFolds = 5;
    public const KareCrossValidationModel CrossValidationModel = KareCrossValidationModel.FoldEnsemble;
    public const int RidgeGridCount = 36;
    public const double RidgeGridMinimum = 1e-6;
    public const double RidgeGridMaximum = 10.0;

    public static int[] CreateHiddenLayerWidths() => new[] { HiddenLayerWidth };

    /// <summary>The default ridge grid: <see cref="RidgeGridCount"/> log-spaced values from <see cref="RidgeGridMinimum"/> to <see cref="RidgeGridMaximum"/>.</summary>
    public static double[] CreateRidgeGrid()
    {
        var grid = new double[RidgeGridCount];
        double logMin = Math.Log10(RidgeGridMinimum);
        double step = (Math.Log10(RidgeGridMaximum) - logMin) / (RidgeGridCount - 1);
        for (int i = 0; i < grid.Length; i++)
            grid[i] = Math.Pow(10, logMin + i * step);
        grid[0] = RidgeGridMinimum;
        grid[^1] = RidgeGridMaximum;
        return grid;
    }
}
