namespace Microsoft.ML.Kare.Training;

/// <summary>
/// What the training backend reports to, and asks of, its caller: messages and cancellation. Keeps the backend free of
/// ML.NET's host types.
/// </summary>
internal interface ITrainingMonitor
{
    /// <summary>Logs an informational message.</summary>
    void Info(string message);

    /// <summary>Logs a warning.</summary>
    void Warning(string message);

    /// <summary>Throws <see cref="System.OperationCanceledException"/> when the caller cancelled training.</summary>
    void CheckAlive();
}

/// <summary>A <see cref="ITrainingMonitor"/> that also receives the points of a fit's training curve.</summary>
/// <typeparam name="TProgress">The curve's point: a KARE epoch, a mean-field step.</typeparam>
internal interface ITrainingMonitor<in TProgress> : ITrainingMonitor
{
    /// <summary>Reports one point of <paramref name="total"/> (epochs or steps).</summary>
    void Report(TProgress progress, int total);
}
