namespace Microsoft.ML.Kare;

/// <summary>How the final kernel ridge regression chooses its ridge λ (and the training epoch) from training data.</summary>
public enum KareRidgeSelection
{
    /// <summary>
    /// Hold out a fraction of the training rows, train the kernel on the rest, choose λ on a grid and the best epoch
    /// by validation error, then refit the kernel ridge regression on all training rows with the frozen kernel.
    /// Robust; the default.
    /// </summary>
    HoldOut = 0,

    /// <summary>
    /// Train the kernel on all rows and choose λ by generalised cross-validation on the same rows. Uses every row for
    /// the kernel, but is optimistic after KARE training, which fits the kernel to those very rows.
    /// </summary>
    GeneralizedCrossValidation = 1,

    /// <summary>
    /// k-fold cross-validation (<c>NumberOfFolds</c>): k networks train in lockstep, each on all rows but one fold, and
    /// the held-out errors of the k folds, averaged epoch by epoch, choose λ and the epoch; a network trained on all rows
    /// in the same lockstep gives the kernel of the chosen epoch, and the kernel ridge regression is fitted on all rows.
    /// Every row serves both training and selection, at k + 1 times the training cost: for small data sets.
    /// </summary>
    CrossValidation = 2,

    /// <summary>
    /// <see cref="CrossValidation"/> for small data sets, where a single hold-out has too few rows to choose well and
    /// takes too many from training, and <see cref="HoldOut"/> for larger ones, where it is reliable and k + 1 networks
    /// would cost too much.
    /// </summary>
    Automatic = 3,
}
