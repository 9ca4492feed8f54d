"""The API's bodies declared once, as pydantic models: what a request may hold and what an
answer holds. The checks of a request come from them (`uniqu3.intake` for orders) and so does
the OpenAPI document (`uniqu3.api.openapi`).

- `fields`: the field types (a check and its JSON Schema each) and `field_errors`, which
  turns a refusal into the API's `{"lines[2].quantity": [message, …]}`;
- `orders`: the order as sent (`OrderInput`) and as read (`Order`);
- `errors`: the error answer (`Error`).

The business rules are the workflow's (`uniqu3.workflow.rules`): the models ask it.
"""
