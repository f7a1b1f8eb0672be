using System;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// One optimiser step of a method's training objective: KARE on the network's kernel (<see cref="KernelKareStep"/>), or
/// the mean squared error of the network (<see cref="NetworkMeanSquaredErrorStep"/>) or of its linearisation
/// (<see cref="LinearizedNetworkStep"/>). A new way of training the network is one new implementation.
/// </summary>
internal interface ITrainingStep : IDisposable
{
    /// <summary>
    /// One step on <paramref name="batch"/>; returns the objective before the update (non-finite: no update was made).
    /// <paramref name="batchIsFixed"/>: the same row set comes back every step (full batch), so the step may cache
    /// quantities of it that do not depend on θ.
    /// </summary>
    double Step(RowSet batch, bool batchIsFixed);

    /// <summary>The objective on <paramref name="rows"/> at the current θ, without an update (NaN when not finite).</summary>
    double Objective(RowSet rows);
}
