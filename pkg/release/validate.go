package release

import (
	"fmt"

	"helm.sh/helm/v4/pkg/chart/common/util"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
)

// InvalidValuesError is returned when values break the chart's
// values.schema.json. Nothing was applied to the cluster.
type InvalidValuesError struct {
	Chart   string
	Message string
}

func (e *InvalidValuesError) Error() string {
	return fmt.Sprintf("values rejected by the schema of chart %s: %s", e.Chart, e.Message)
}

// validateValues checks values, coalesced with the chart's defaults as Helm
// renders them, against the chart's schema. Install and Upgrade check the
// same again; checking first lets the caller tell a rejected request from a
// failed release.
func validateValues(chart *chartv2.Chart, values map[string]any) error {
	coalesced, err := util.CoalesceValues(chart, values)
	if err != nil {
		return fmt.Errorf("coalesce values: %w", err)
	}
	if err := util.ValidateAgainstSchema(chart, coalesced); err != nil {
		return &InvalidValuesError{Chart: chart.Name(), Message: err.Error()}
	}
	return nil
}
