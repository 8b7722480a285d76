/** Input defaults from an action.yml; inputs without a default map to ''. */
export function actionDefaults(file: string): Record<string, string>;
