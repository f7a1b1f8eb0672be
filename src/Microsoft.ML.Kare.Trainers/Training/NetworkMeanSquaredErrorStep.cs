using Microsoft.ML.Kare.Networks;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// Ordinary training of the network's own single output by weighted mean squared error (<see cref="MseStep"/>): the
/// after-kernel and DNN baselines of the KARE paper.
/// </summary>
internal sealed class NetworkMeanSquaredErrorStep : ITrainingStep
{
    private readonly MlpNetwork _network;
    private readonly ParameterOptimizer _optimizer;

    public NetworkMeanSquaredErrorStep(MlpNetwork network, ParameterOptimizer optimizer)
    {
        _network = network;
        _optimizer = optimizer;
    }

    public double Step(RowSet batch, bool batchIsFixed) => MseStep.Run(_network, _optimizer, batch);

    public double Objective(RowSet rows) => rows.MeanSquaredError(MseStep.Predict(_network, rows.Features));

    public void Dispose()
    {
    }
}
