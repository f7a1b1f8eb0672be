namespace Microsoft.ML.Kare;

/// <summary>One point of a mean-field two-timescale training curve.</summary>
/// <param name="Step">Langevin step; 0 is the network at initialisation.</param>
/// <param name="Objective">
/// G(W) = min_a J(a, W), the regularised objective with the second layer solved exactly on the noise-free standardised
/// labels (the entropy term of the theory is not included).
/// </param>
/// <param name="TrainingError">Mean squared error of the network on the training rows, in standardised label units.</param>
public readonly record struct MeanFieldStepSummary(int Step, double Objective, double TrainingError);
