namespace Microsoft.ML.Kare.Backend;

/// <summary>
/// What the training backend reports to, and asks of, its caller. Keeps the backend free of ML.NET's host types.
/// </summary>
internal interface ITrainingMonitor
{
    /// <summary>Logs an informational message.</summary>
    void Info(string message);

    /// <summary>Logs a warning.</summary>
    void Warning(string message);

    /// <summary>Reports one finished epoch.</summary>
    void EpochCompleted(KareEpochSummary summary, int totalEpochs);

    /// <summary>Throws <see cref="System.OperationCanceledException"/> when the caller cancelled training.</summary>
    void CheckAlive();
}
