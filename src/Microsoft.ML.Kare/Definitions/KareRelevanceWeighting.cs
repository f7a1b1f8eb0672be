namespace Microsoft.ML.Kare;

/// <summary>
/// Which inputs the KARE trainers weight by their relevance to the label before training: each weighted input is
/// multiplied by √(0.25 + 0.75·r/r̄), r its correlation ratio with the label and r̄ the mean over the weighted inputs, a
/// length scale per input set by a univariate screen (docs/maths.md, "Relevance-weighted inputs").
/// </summary>
public enum KareRelevanceWeighting
{
    /// <summary>
    /// The indicator inputs (two-valued columns, such as one-hot categories) when there are more than 1,000 training
    /// rows, none with fewer. The default: measured on the public suite (README, "Relevance-weighted inputs").
    /// </summary>
    Automatic = 0,

    /// <summary>No input is weighted.</summary>
    None = 1,

    /// <summary>The indicator inputs (two-valued columns), whatever the number of rows; the other inputs keep weight 1.</summary>
    Indicators = 2,

    /// <summary>
    /// Every input. Measured to help data with many irrelevant columns (dna) and to hurt where the label depends on all
    /// inputs together (the KARE paper's simulation: test error 5× larger).
    /// </summary>
    AllInputs = 3,
}
