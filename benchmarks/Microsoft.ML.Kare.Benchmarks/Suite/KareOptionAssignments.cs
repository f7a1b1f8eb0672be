using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;

namespace Microsoft.ML.Kare.Benchmarks.Suite;

/// <summary>
/// Option assignments given on the command line as <c>Name=Value</c> (for example <c>HiddenLayerWidths=128,128</c>,
/// <c>NumberOfEpochs=50</c>, <c>Activation=Relu</c>, <c>EarlyStoppingPatience=null</c>), applied by name to the public
/// fields of <see cref="KareTrainerOptionsBase"/>, so any option of the trainers can be varied without code.
/// </summary>
internal sealed class KareOptionAssignments
{
    private readonly SortedDictionary<string, string> _values;

    private KareOptionAssignments(SortedDictionary<string, string> values) => _values = values;

    public static KareOptionAssignments Empty { get; } = new(new SortedDictionary<string, string>(StringComparer.Ordinal));

    /// <summary>Parses and checks the assignments (each names a settable option and holds a value of its type).</summary>
    public static KareOptionAssignments Parse(IEnumerable<string> assignments)
    {
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string assignment in assignments)
        {
            int equals = assignment.IndexOf('=');
            if (equals <= 0)
                throw new ArgumentException($"--option '{assignment}': expected Name=Value.");
            string name = assignment[..equals].Trim();
            string value = assignment[(equals + 1)..].Trim();
            FieldInfo field = Field(name);
            ConvertValue(value, field.FieldType, name); // checks the value now rather than at the first fit
            values[name] = value;
        }
        return new KareOptionAssignments(values);
    }

    /// <summary>A canonical text of the assignments (sorted by name): the cache key of an option set.</summary>
    public string Canonical => _values.Count == 0 ? "defaults" : string.Join(" ", _values.Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>Sets the assigned options on <paramref name="options"/> and returns it.</summary>
    public TOptions ApplyTo<TOptions>(TOptions options) where TOptions : KareTrainerOptionsBase
    {
        foreach (var (name, value) in _values)
        {
            FieldInfo field = Field(name);
            field.SetValue(options, ConvertValue(value, field.FieldType, name));
        }
        return options;
    }

    private static FieldInfo Field(string name)
    {
        FieldInfo? field = typeof(KareTrainerOptionsBase).GetField(name, BindingFlags.Public | BindingFlags.Instance);
        if (field is null || field.IsInitOnly)
        {
            string known = string.Join(", ", typeof(KareTrainerOptionsBase).GetFields(BindingFlags.Public | BindingFlags.Instance)
                .Where(f => IsSupported(f.FieldType)).Select(f => f.Name).OrderBy(n => n, StringComparer.Ordinal));
            throw new ArgumentException($"--option {name}: not an option of the KARE trainers. Options: {known}.");
        }
        if (!IsSupported(field.FieldType))
            throw new ArgumentException($"--option {name}: options of type {field.FieldType.Name} cannot be set from the command line.");
        return field;
    }

    private static bool IsSupported(Type type)
    {
        Type element = Nullable.GetUnderlyingType(type) ?? (type.IsArray ? type.GetElementType()! : type);
        return element == typeof(int) || element == typeof(double) || element == typeof(bool) || element.IsEnum;
    }

    private static object? ConvertValue(string text, Type type, string name)
    {
        try
        {
            Type? underlying = Nullable.GetUnderlyingType(type);
            if (underlying is not null)
                return text.Equals("null", StringComparison.OrdinalIgnoreCase) ? null : Scalar(text, underlying);
            if (type.IsArray)
            {
                Type element = type.GetElementType()!;
                string[] parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var array = Array.CreateInstance(element, parts.Length);
                for (int i = 0; i < parts.Length; i++)
                    array.SetValue(Scalar(parts[i], element), i);
                return array;
            }
            return Scalar(text, type);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new ArgumentException($"--option {name}={text}: not a value of type {type.Name} ({e.Message}).", e);
        }
    }

    private static object Scalar(string text, Type type)
    {
        if (type.IsEnum)
            return Enum.Parse(type, text, ignoreCase: true);
        if (type == typeof(bool))
            return bool.Parse(text);
        if (type == typeof(int))
            return int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);
        return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
    }
}
