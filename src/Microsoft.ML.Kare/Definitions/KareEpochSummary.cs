namespace Microsoft.ML.Kare;

/// <summary>One point of a KARE training curve.</summary>
/// <param name="Epoch">Epoch number; 0 is the network at initialisation.</param>
/// <param name="Kare">
/// The training objective on the rows the network is trained on (KARE ρ for <see cref="KareMethod.Kare"/> and
/// <see cref="KareMethod.NtkAtInitialization"/>, the mean squared error in standardised label units for the methods trained
/// by it): for epoch 0 at initialisation; for later epochs the mean over the epoch's steps of the value measured just
/// before each step's update (as training losses are usually reported).
/// </param>
/// <param name="ValidationError">
/// Mean squared error of the model's prediction on the held-out rows, in standardised label units (for kernel ridge
/// regression at the best λ of the grid); NaN when no rows are held out, and for the epochs between held-out
/// evaluations (every epoch for the first 10, then every 1/20 of the epochs, and the last).
/// </param>
/// <param name="ValidationRelativeRidge">The relative ridge λ̃ that achieved <paramref name="ValidationError"/>; NaN when it is NaN.</param>
public readonly record struct KareEpochSummary(int Epoch, double Kare, double ValidationError, double ValidationRelativeRidge);
