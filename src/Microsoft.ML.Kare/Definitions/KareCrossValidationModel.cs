namespace Microsoft.ML.Kare;

/// <summary>
/// The model that k-fold cross-validation (<see cref="KareRidgeSelection.CrossValidation"/>) produces once it has chosen
/// the epoch and the ridge.
/// </summary>
public enum KareCrossValidationModel
{
    /// <summary>
    /// The k fold networks at the chosen epoch, each with its kernel ridge regression refitted on all rows; the model
    /// predicts their average. Every member was validated on its own fold; the model is k times larger and scores k
    /// times slower than a single network.
    /// </summary>
    FoldEnsemble = 0,

    /// <summary>
    /// One more network trained on all rows in the same lockstep, at the chosen epoch, with its kernel ridge regression
    /// on all rows. One network, but its own training run is never validated.
    /// </summary>
    AllRowsRefit = 1,
}
