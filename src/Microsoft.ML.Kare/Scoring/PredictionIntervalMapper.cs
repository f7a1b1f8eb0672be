using System.Collections.Generic;
using System.Linq;
using System;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Kare.Scoring;

/// <summary>
/// Binds a regression model to a schema as ML.NET binds any scalar predictor (its <c>Score</c> column, through ML.NET's
/// own wrapper, so that evaluation, feature importance and saving see the usual score), and adds the
/// <see cref="KarePredictionInterval.LowerBoundColumnName"/> and <see cref="KarePredictionInterval.UpperBoundColumnName"/>
/// columns when the model has prediction intervals.
/// </summary>
internal static class PredictionIntervalMapper
{
    /// <param name="owner">The model, which reports itself as the bound mapper's bindable.</param>
    /// <param name="predictor">The model as a predictor with a scalar value mapper.</param>
    /// <param name="env">The host environment.</param>
    /// <param name="schema">The schema to bind to.</param>
    /// <param name="interval">The model's intervals, or null for a score alone.</param>
    public static ISchemaBoundMapper Bind(ISchemaBindableMapper owner, IPredictor predictor, IHostEnvironment env, RoleMappedSchema schema,
        KarePredictionInterval? interval)
    {
        ISchemaBindableMapper scoreOnly = new SchemaBindablePredictorWrapper(predictor);
        ISchemaBoundMapper bound = scoreOnly.Bind(env, schema);
        return interval is null ? bound : new BoundMapper(owner, (ISchemaBoundRowMapper)bound, interval.HalfWidth);
    }

    /// <summary>The score of the wrapped mapper, computed once per row, and the score ∓ the half-width.</summary>
    private sealed class BoundMapper : ISchemaBoundRowMapper
    {
        private readonly ISchemaBoundRowMapper _score;
        private readonly double _halfWidth;

        public BoundMapper(ISchemaBindableMapper owner, ISchemaBoundRowMapper score, double halfWidth)
        {
            Bindable = owner;
            _score = score;
            _halfWidth = halfWidth;
            var builder = new DataViewSchema.Builder();
            builder.AddColumns(score.OutputSchema);
            builder.AddColumn(KarePredictionInterval.LowerBoundColumnName, NumberDataViewType.Single);
            builder.AddColumn(KarePredictionInterval.UpperBoundColumnName, NumberDataViewType.Single);
            OutputSchema = builder.ToSchema();
        }

        public RoleMappedSchema InputRoleMappedSchema => _score.InputRoleMappedSchema;

        public DataViewSchema InputSchema => _score.InputSchema;

        public DataViewSchema OutputSchema { get; }

        public ISchemaBindableMapper Bindable { get; }

        public IEnumerable<KeyValuePair<RoleMappedSchema.ColumnRole, string>> GetInputColumnRoles() => _score.GetInputColumnRoles();

        public IEnumerable<DataViewSchema.Column> GetDependenciesForNewColumns(IEnumerable<DataViewSchema.Column> dependingColumns)
            => dependingColumns.Any() ? _score.GetDependenciesForNewColumns(new[] { _score.OutputSchema[0] }) : Enumerable.Empty<DataViewSchema.Column>();

        public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
        {
            bool[] active = new bool[OutputSchema.Count];
            foreach (DataViewSchema.Column column in activeColumns)
                active[column.Index] = true;
            bool anyActive = active.Contains(true);
            DataViewSchema.Column scoreColumn = _score.OutputSchema[0];
            DataViewRow scoreRow = _score.GetRow(input, anyActive ? new[] { scoreColumn } : Array.Empty<DataViewSchema.Column>());
            var getters = new Delegate[OutputSchema.Count];
            if (anyActive)
            {
                ValueGetter<float> getScore = scoreRow.GetGetter<float>(scoreColumn);
                long cachedPosition = -1;
                float score = 0;
                // Score, lower and upper bound of one row share one evaluation of the network.
                float Score()
                {
                    if (scoreRow.Position != cachedPosition || cachedPosition < 0)
                    {
                        getScore(ref score);
                        cachedPosition = scoreRow.Position;
                    }
                    return score;
                }
                double halfWidth = _halfWidth;
                int lower = OutputSchema.Count - 2, upper = OutputSchema.Count - 1;
                if (active[0])
                    getters[0] = (ValueGetter<float>)((ref float value) => value = Score());
                if (active[lower])
                    getters[lower] = (ValueGetter<float>)((ref float value) => value = (float)(Score() - halfWidth));
                if (active[upper])
                    getters[upper] = (ValueGetter<float>)((ref float value) => value = (float)(Score() + halfWidth));
            }
            return new SimpleRow(OutputSchema, scoreRow, getters);
        }
    }
}
