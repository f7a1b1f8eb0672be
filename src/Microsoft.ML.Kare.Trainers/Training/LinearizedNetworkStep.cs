using Microsoft.ML.Kare.Networks;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// Training of the network's linearisation by weighted mean squared error, re-linearised on a schedule
/// (<see cref="IterativeLinearization"/>).
/// </summary>
internal sealed class LinearizedNetworkStep : ITrainingStep
{
    private readonly MlpNetwork _network;
    private readonly ParameterOptimizer _optimizer;
    private readonly IterativeLinearization _linearization;

    public LinearizedNetworkStep(MlpNetwork network, ParameterOptimizer optimizer, IterativeLinearization linearization)
    {
        _network = network;
        _optimizer = optimizer;
        _linearization = linearization;
    }

    public double Step(RowSet batch, bool batchIsFixed) => _linearization.Step(_network, _optimizer, batch, batchIsFixed);

    public double Objective(RowSet rows)
        => rows.MeanSquaredError(IterativeLinearization.Predict(_network.Architecture, _linearization.AnchorParameters ?? _network.GetParameters(),
            _network.GetParameters(), rows.Features));

    public void Dispose()
    {
    }
}
