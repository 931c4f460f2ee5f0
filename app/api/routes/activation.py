"""Element-wise activations, forward and backward."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.geometry import activation_geometry_out
from app.api.responses import ArrayJSONResponse, Encoding
from app.api.route import GuardedRoute
from app.api.schemas import ERRORS, ActivationRequest, ActivationResponse
from app.engine import activations

router = APIRouter(prefix="/api", tags=["activations"], route_class=GuardedRoute)


@router.post("/activation", response_model=ActivationResponse, responses=ERRORS)
def activation(body: ActivationRequest, encoding: Encoding = "json") -> ArrayJSONResponse:
    """`relu`, `leaky_relu`, `sigmoid` or `tanh`; with `grad_output`, dE/dX."""
    kwargs = {"negative_slope": body.negative_slope} if body.function == "leaky_relu" else {}
    response = ActivationResponse(
        output=activations.activation(body.function, body.input, **kwargs),
        geometry=activation_geometry_out(body.function, body.negative_slope, body.input.shape),
    )
    if body.grad_output is not None:  # the engine checks its shape against the input's
        response.grad_input = activations.activation_backward(
            body.function, body.grad_output, body.input, **kwargs
        )
    return ArrayJSONResponse(response, encoding)
